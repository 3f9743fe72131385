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
    sequence = CaseNumberSequence.objects.select_for_update().filter(prefix=prefix).first()
    if sequence is None:
        highest = Case.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
        start = _sequence_of(highest.first() or "", prefix) or 0
        try:
            with transaction.atomic():
                CaseNumberSequence.objects.create(prefix=prefix, last=start)
        except IntegrityError:  # another registration created it first
            pass
        sequence = CaseNumberSequence.objects.select_for_update().get(prefix=prefix)
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return [f"{prefix}{n:0{CASE_NUMBER_DIGITS}d}" for n in range(first, sequence.last + 1)]


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
