"""What every case service shares: who acts (the case-handler rule), the locked row a transition
starts from and the case's history row."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import User
from governance.transitions import may_act as may_act_on

from ..models import Case, CaseHistory
from ..transitions import CASES, case_handler


def actor_name(user: User | None) -> str:
    return (user.display_name or user.username) if user else _("系统")


def record(case: Case, action: str, before: str, user: User | None, note: str = "", **data) -> CaseHistory:
    return CaseHistory.objects.create(
        case=case, at=timezone.now(), actor=user, actor_name=actor_name(user), action=action,
        from_status=before, to_status=case.status, note=note, data=data,
    )  # fmt: skip


def may_act(user: User, case: Case) -> bool:
    """Whether the user handles this case at all (records that change no state: parties, sessions,
    follow-ups, confirmation): the case-handler rule of disputes.transitions."""
    return may_act_on(user, "case.handle", case_handler, case)


def begin(case: Case, name: str, user: User) -> tuple[Case, str]:
    """Lock the row and check the move on it (disputes.transitions.CASES: state, then actor)."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    CASES.check(user, locked, name)
    return locked, locked.status
