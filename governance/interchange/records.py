"""Registers the record types in the order their sections appear in a file."""

from . import records_assessment, records_disputes, records_grids  # noqa: F401
