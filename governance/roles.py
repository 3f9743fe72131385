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
}


def has_capability(user: User, capability: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.role in CAPABILITIES.get(capability, frozenset())
