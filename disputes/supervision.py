"""The case deadline sweep: overdue cases and confirmations go to the level above (督办), once."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.codes import supervising_code
from governance.models import User
from grids.events.services.effects import CENTRE_ROLES, notify
from grids.models import Region

from .lifecycle import case_overdue_q
from .models import Case, CaseSupervision, JudicialConfirmation
from .services import deadline_end


def sweep_case_deadlines(now: dt.datetime | None = None) -> dict[str, int]:
    """Idempotent like the event sweep: one supervision per case and kind, keyed notifications."""
    now = now or timezone.now()
    overdue_cases = (
        Case.objects.filter(case_overdue_q(now))
        .exclude(Exists(CaseSupervision.objects.filter(case=OuterRef("pk"), kind="conclusion")))
        .only("pk", "number", "title", "region_code", "conclusion_deadline")
    )
    rows = [(case, "conclusion", case.conclusion_deadline) for case in overdue_cases]
    late = JudicialConfirmation.objects.filter(decided_on__isnull=True, deadline__lt=timezone.localdate(now)).exclude(
        Exists(CaseSupervision.objects.filter(case=OuterRef("case_id"), kind="confirmation"))
    )
    rows += [(c.case, "confirmation", deadline_end(c.deadline)) for c in late.select_related("case")]
    return _supervise(rows, now)


def _supervise(rows, now) -> dict[str, int]:
    codes = {supervising_code(case.region_code) for case, _kind, _deadline in rows}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    staff: dict[str, list[User]] = {}
    for user in User.objects.filter(is_active=True, role__in=CENTRE_ROLES, region__code__in=codes).select_related(
        "region"
    ):
        staff.setdefault(user.region.code, []).append(user)
    counts = {"conclusion": 0, "confirmation": 0}
    labels = dict(CaseSupervision.KIND_CHOICES)
    with transaction.atomic():
        for case, kind, deadline in rows:
            code = supervising_code(case.region_code)
            if code not in regions:
                continue
            _row, created = CaseSupervision.objects.get_or_create(
                case=case,
                kind=kind,
                defaults={"supervising_region": regions[code], "deadline": deadline, "created_at": now},
            )
            if created:
                counts[kind] += 1
                notify(
                    staff.get(code, []),
                    key=f"case-overdue:{kind}:{case.pk}",
                    message=_("督办：案件%(number)s“%(title)s”%(kind)s已超期")
                    % {"number": case.number, "title": case.title, "kind": labels[kind]},
                )
    return counts
