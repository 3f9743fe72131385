"""Deadlines of SPEC §5.4 shared by more than one assessment module (stated once, imported
wherever they are used — services, pages and the messages that name them)."""

APPEAL_WORKING_DAYS = 15  # a unit may appeal a score, or a veto ruling, within this many working days
DECISION_WORKING_DAYS = 10  # the committee answers an appeal within this many working days of its filing
