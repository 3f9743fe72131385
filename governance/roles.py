"""What each role may do, as one readable table.

Jurisdiction (which rows) is the scoping mechanism's business; this table says which
kinds of change a role may make inside its jurisdiction. Platform superusers may do all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .choices import Role

if TYPE_CHECKING:
    from .models import User

CAPABILITIES: dict[str, frozenset[str]] = {
    # hierarchy
    "region.change": frozenset({Role.ADMIN, Role.CENTRE_STAFF}),
    "region.import": frozenset({Role.ADMIN, Role.CENTRE_STAFF}),
    "gridworker.change": frozenset({Role.ADMIN, Role.CENTRE_STAFF}),
    # organisation
    "department.change": frozenset({Role.ADMIN, Role.CENTRE_STAFF}),
    "user.view": frozenset({Role.ADMIN}),
    "user.change": frozenset({Role.ADMIN}),
    "audit.view": frozenset({Role.ADMIN, Role.COMMITTEE_STAFF}),
    # grid events (which event and which transition: scoping and the state machine's actors)
    "event.file": frozenset(
        {Role.GRID_WORKER, Role.GRID_LEADER, Role.CENTRE_STAFF, Role.API_CLIENT, Role.DEPARTMENT_HANDLER}
    ),
    "event.handle": frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.CENTRE_STAFF, Role.DEPARTMENT_HANDLER}),
    "event.reveal_contact": frozenset({Role.CENTRE_STAFF, Role.COMMITTEE_STAFF}),
    "event.export": frozenset({Role.CENTRE_STAFF, Role.GRID_LEADER, Role.COMMITTEE_STAFF, Role.DEPARTMENT_HANDLER}),
    "visit.record": frozenset({Role.GRID_WORKER}),
    # mediation cases (which case: scoping; which step: the actor rules of disputes.transitions)
    "case.handle": frozenset({Role.MEDIATOR, Role.CENTRE_STAFF, Role.COMMITTEE_STAFF}),
    "case.register": frozenset({Role.MEDIATOR, Role.CENTRE_STAFF}),
    "case.reveal_party": frozenset({Role.MEDIATOR, Role.CENTRE_STAFF}),
    "mediation_org.change": frozenset({Role.ADMIN, Role.CENTRE_STAFF}),
    # the committee's dashboard (which region: scoping); read-only
    "dashboard.view": frozenset({Role.ADMIN, Role.COMMITTEE_STAFF, Role.CENTRE_STAFF}),
    # assessment (which cycle or unit: scoping)
    "assessment.run": frozenset({Role.ADMIN, Role.CENTRE_STAFF, Role.COMMITTEE_STAFF}),
    "assessment.finalise": frozenset({Role.ADMIN, Role.COMMITTEE_STAFF}),
    # assessment inputs (which unit: scoping; who acts on which step: assessment.transitions)
    "assessment.inputs": frozenset({Role.ADMIN, Role.CENTRE_STAFF, Role.COMMITTEE_STAFF, Role.ASSESSOR}),
    "assessment.report": frozenset({Role.CENTRE_STAFF}),
    "assessment.survey": frozenset({Role.ASSESSOR}),
    "assessment.group": frozenset({Role.CENTRE_STAFF, Role.COMMITTEE_STAFF}),
    "assessment.score": frozenset({Role.ASSESSOR}),
    "assessment.review": frozenset({Role.COMMITTEE_STAFF}),
    "assessment.rule": frozenset({Role.COMMITTEE_STAFF}),
    "assessment.award": frozenset({Role.COMMITTEE_STAFF}),
    "assessment.respond": frozenset({Role.CENTRE_STAFF, Role.COMMITTEE_STAFF}),
    "assessment.decide_claim": frozenset({Role.ASSESSOR, Role.COMMITTEE_STAFF}),
    "assessment.recheck": frozenset({Role.ASSESSOR}),
    "webhook.change": frozenset({Role.ADMIN, Role.CENTRE_STAFF, Role.DEPARTMENT_HANDLER, Role.API_CLIENT}),
}


def has_capability(user: User, capability: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.role in CAPABILITIES.get(capability, frozenset())
