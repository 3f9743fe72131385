"""Writes to mediation cases, by concern: numbers (案号), registration and parties, repeats (重复),
steps (every transition), records (sessions, follow-ups), confirmation (司法确认); history holds what
they share (who may act, the history row). The names others use are re-exported here, so callers
write `from disputes import services` / `services.case_register(...)`."""

from ..lifecycle import CaseError, conclusion_deadlines
from .confirmation import (
    CONFIRMATION_WORKING_DAYS,
    confirmation_apply,
    confirmation_deadline,
    confirmation_decide,
    deadline_end,
)
from .history import may_act
from .numbers import (
    CASE_NUMBER_DIGITS,
    case_number_prefix,
    note_case_numbers,
    take_case_number_blocks,
    take_case_numbers,
)
from .records import follow_up_record, session_log
from .registration import MASS_THRESHOLD, case_register, case_register_once, mass_and_risk, party_add
from .repeats import (
    REPEAT_WINDOW_DAYS,
    earlier_cases_of_same_parties,
    refresh_repeat_flag,
    refresh_repeat_flags,
    repeat_case_ids,
    same_parties,
)
from .steps import (
    TRANSITION_SERVICES,
    case_accept,
    case_agree,
    case_assign,
    case_close,
    case_decline,
    case_fail,
    case_refer,
    case_transfer,
    transition,
)

__all__ = [
    "CASE_NUMBER_DIGITS",
    "CONFIRMATION_WORKING_DAYS",
    "MASS_THRESHOLD",
    "REPEAT_WINDOW_DAYS",
    "TRANSITION_SERVICES",
    "CaseError",
    "case_accept",
    "case_agree",
    "case_assign",
    "case_close",
    "case_decline",
    "case_fail",
    "case_number_prefix",
    "case_refer",
    "case_register",
    "case_register_once",
    "case_transfer",
    "conclusion_deadlines",
    "confirmation_apply",
    "confirmation_deadline",
    "confirmation_decide",
    "deadline_end",
    "earlier_cases_of_same_parties",
    "follow_up_record",
    "mass_and_risk",
    "may_act",
    "note_case_numbers",
    "party_add",
    "refresh_repeat_flag",
    "refresh_repeat_flags",
    "repeat_case_ids",
    "same_parties",
    "session_log",
    "take_case_number_blocks",
    "take_case_numbers",
    "transition",
]
