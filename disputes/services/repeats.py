"""重复: a party who was a party to another case in the 365 days before — detection, the stored flag
and, for committee staff, the earlier cases behind it."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from governance.models import User

from ..choices import PartyKind
from ..models import Case, Party

REPEAT_WINDOW_DAYS = 365


def repeat_case_ids(cases) -> set[int]:
    """重复: the cases among `cases` with a party who is a party to another case — any organisation,
    anywhere on the platform — registered in the 365 days before it: a natural person matched by the
    ID number's keyed hash, an organisation by its unified social credit code. One query."""
    window = {
        "case__registered_at__lt": OuterRef("case__registered_at"),
        "case__registered_at__gte": OuterRef("case__registered_at") - dt.timedelta(days=REPEAT_WINDOW_DAYS),
    }
    earlier = Party.objects.filter(**window).exclude(case_id=OuterRef("case_id"))
    same_person = earlier.filter(kind=PartyKind.PERSON, id_number_index=OuterRef("id_number_index"))
    same_organisation = earlier.filter(kind=PartyKind.ORGANISATION, credit_code=OuterRef("credit_code"))
    parties = Party.objects.filter(case__in=cases).filter(
        (Q(kind=PartyKind.PERSON) & ~Q(id_number_index="") & Exists(same_person))
        | (Q(kind=PartyKind.ORGANISATION) & ~Q(credit_code="") & Exists(same_organisation))
    )
    return set(parties.values_list("case_id", flat=True))


def refresh_repeat_flag(case: Case) -> bool:
    """Set the repeat flag of one case (only the flag is stored: a mediator never learns which
    other case it was)."""
    repeat = case.pk in repeat_case_ids(Case.objects.filter(pk=case.pk))
    if repeat != case.is_repeat:
        case.is_repeat = repeat
        case.save(update_fields=["is_repeat", "updated_at"])
    return repeat


def refresh_repeat_flags(cases) -> None:
    """refresh_repeat_flag for many cases at once (bulk writes: the caller records the audit entry)."""
    repeat = repeat_case_ids(cases)
    now = timezone.now()
    cases.filter(pk__in=repeat, is_repeat=False).update(is_repeat=True, updated_at=now)
    cases.exclude(pk__in=repeat).filter(is_repeat=True).update(is_repeat=False, updated_at=now)


def earlier_cases_of_same_parties(case: Case, viewer: User):
    """For committee staff: the earlier cases behind a repeat flag, limited to the viewer's jurisdiction."""
    return (
        Case.objects.restrict(viewer)
        .filter(parties__in=same_parties(case.parties.all()))
        .filter(registered_at__gte=case.registered_at - dt.timedelta(days=REPEAT_WINDOW_DAYS))
        .filter(registered_at__lt=case.registered_at)
        .exclude(pk=case.pk)
        .distinct()
    )


def same_parties(parties):
    """Every party row that is the same person (ID hash) or organisation (credit code) as one of `parties`."""
    indexes = parties.filter(kind=PartyKind.PERSON).exclude(id_number_index="").values("id_number_index")
    codes = parties.filter(kind=PartyKind.ORGANISATION).exclude(credit_code="").values("credit_code")
    return Party.objects.filter(
        Q(kind=PartyKind.PERSON, id_number_index__in=indexes) | Q(kind=PartyKind.ORGANISATION, credit_code__in=codes)
    )
