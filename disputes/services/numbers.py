"""案号: the number prefix, numbers taken under a lock on the prefix's counter, and counters advanced
past numbers an import keeps."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.codes import Level, ancestor_code

from ..models import Case, CaseNumberSequence, MediationOrganisation

CASE_NUMBER_DIGITS = 6


def case_number_prefix(organisation: MediationOrganisation, when: dt.datetime) -> str:
    """案号 prefix: T + the organisation's county code + the registration year."""
    return f"T{ancestor_code(organisation.region.code, Level.COUNTY)}{timezone.localtime(when):%Y}"


@transaction.atomic
def take_case_numbers(*, prefix: str, count: int = 1) -> list[str]:
    """The next `count` case numbers under `prefix`, taken under a lock on the prefix's counter
    (held to the end of the caller's transaction, so numbers are never given twice). A new
    counter starts after the highest number already stored (cases imported or registered
    before the counter existed)."""
    return take_case_number_blocks({prefix: count})[prefix]


@transaction.atomic
def take_case_number_blocks(counts: dict[str, int]) -> dict[str, list[str]]:
    """take_case_numbers for many prefixes at once (an import's batch spans every county and
    year): the counters are locked in one statement, in prefix order (two callers never wait on
    each other in a circle), and advanced in one."""
    prefixes = sorted(counts)
    locked = CaseNumberSequence.objects.select_for_update().filter(prefix__in=prefixes).order_by("prefix")
    sequences = {s.prefix: s for s in locked}
    for prefix in prefixes:
        if prefix not in sequences:
            sequences[prefix] = _new_counter(prefix)
    numbers = {}
    for prefix in prefixes:
        sequence = sequences[prefix]
        first, sequence.last = sequence.last + 1, sequence.last + counts[prefix]
        numbers[prefix] = [f"{prefix}{n:0{CASE_NUMBER_DIGITS}d}" for n in range(first, sequence.last + 1)]
    CaseNumberSequence.objects.bulk_update(list(sequences.values()), ["last"])
    return numbers


def _new_counter(prefix: str) -> CaseNumberSequence:
    """The prefix's counter, created after the highest number already stored, and locked."""
    highest = Case.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
    start = _sequence_of(highest.first() or "", prefix) or 0
    try:
        with transaction.atomic():
            CaseNumberSequence.objects.create(prefix=prefix, last=start)
    except IntegrityError:  # another registration created it first
        pass
    return CaseNumberSequence.objects.select_for_update().get(prefix=prefix)


def note_case_numbers(numbers) -> None:
    """Advance the counters past numbers stored without taking them (numbers an import keeps
    from the old system), so that a later registration never collides with one of them."""
    highest: dict[str, int] = {}
    for number in numbers:
        prefix = number[:-CASE_NUMBER_DIGITS]
        sequence = _sequence_of(number, prefix)
        if sequence is not None and len(prefix) == 11 and prefix.startswith("T"):
            highest[prefix] = max(highest.get(prefix, 0), sequence)
    for prefix, last in sorted(highest.items()):
        take_case_numbers(prefix=prefix, count=0)  # creates the counter from the stored numbers if needed
        CaseNumberSequence.objects.filter(prefix=prefix, last__lt=last).update(last=last)


def _sequence_of(number: str, prefix: str) -> int | None:
    tail = number[len(prefix) :] if number.startswith(prefix) else ""
    return int(tail) if len(tail) == CASE_NUMBER_DIGITS and tail.isdigit() else None
