"""Writes to users and departments: the API, pages, admin and commands share these."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .models import Department, User


@transaction.atomic
def user_create(
    *, username: str, password: str, role: str, region=None, department=None, display_name: str = "", **extra
) -> User:
    """Create a user after the password policy and the model's own rules are met."""
    user = User(username=username, role=role, region=region, department=department, display_name=display_name, **extra)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_unlock(*, user: User) -> User:
    """Lift a lockout before it expires (an administrator's decision, audited)."""
    user.failed_logins = 0
    user.locked_until = None
    user.save(update_fields=["failed_logins", "locked_until"])
    from . import audit
    from .choices import AuditAction

    audit.record(AuditAction.UPDATE, instance=user, changes={"locked_until": ["locked", None]})
    return user


@transaction.atomic
def department_create(*, region, kind: str, name: str) -> Department:
    department = Department(region=region, kind=kind, name=name)
    department.full_clean()
    department.save()
    return department
