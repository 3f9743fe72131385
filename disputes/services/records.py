"""Records that keep the state: mediation sessions (while mediating) and fulfilment follow-ups
(while agreed)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import User
from governance.uploads import check_upload_field

from ..choices import CaseStatus
from ..lifecycle import CaseError
from ..models import Case, FollowUp, MediationSession
from .history import may_act, record


def require_state(case: Case, user: User, states: set[str], label: str) -> Case:
    """The case, re-read under a row lock, if it is in one of `states` and the user may act."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in states:
        raise CaseError(
            _("案件当前状态为“%(status)s”，不能%(action)s。") % {"status": case.get_status_display(), "action": label},
            code="illegal_transition",
        )
    if not may_act(user, case):
        raise CaseError(_("您无权%(action)s。") % {"action": label}, code="not_allowed")
    return case


@transaction.atomic
def session_log(
    *, case: Case, user: User, held_on: dt.date, place: str, attendees: str, notes: str, file=None
) -> MediationSession:
    case = require_state(case, user, {CaseStatus.MEDIATING}, _("记录调解"))
    if held_on > timezone.localdate():
        raise CaseError({"held_on": [_("调解日期不能晚于今天。")]})
    if file:
        check_upload_field(file, field="file")
    session = MediationSession.objects.create(
        case=case, held_on=held_on, place=place, attendees=attendees, notes=notes, file=file or "", recorded_by=user
    )
    record(case, "session", case.status, user, session=session.pk)
    return session


@transaction.atomic
def follow_up_record(
    *, case: Case, user: User, visited_on: dt.date, fulfilment: str, satisfaction: str, notes: str = ""
) -> FollowUp:
    case = require_state(case, user, {CaseStatus.AGREED}, _("记录履行回访"))
    if visited_on > timezone.localdate():
        raise CaseError({"visited_on": [_("回访日期不能晚于今天。")]})
    follow_up = FollowUp.objects.create(
        case=case,
        visited_on=visited_on,
        fulfilment=fulfilment,
        satisfaction=satisfaction,
        notes=notes,
        recorded_by=user,
    )
    record(case, "follow_up", case.status, user, fulfilment=fulfilment, satisfaction=satisfaction)
    return follow_up
