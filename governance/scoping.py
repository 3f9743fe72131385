"""Jurisdiction scoping: the one mechanism that limits what a user may see or change.

Every model that holds jurisdiction-bound records derives from `ScopedModel` and names
`scope_path`, the lookup from the record to the code of the region it belongs to. The
restricted queryset then is `Model.objects.restrict(user)`: a prefix match of that code
on the user's region code (`__under`, an indexed comparison, see governance.codes), so a
county user sees the county's subtree and nothing else. Views, API viewsets, the admin
and file downloads all go through `restrict`; anything outside it answers 404.
A model whose scope depends on more than the region (e.g. a department's dispatched
items) overrides `jurisdiction_q`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self

from django.db import models
from django.db.models import Q

from .audit import AuditedQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from governance.models import User

NOTHING = Q(pk__in=[])


def scope_prefix(user: User | AnonymousUser | None) -> str | None:
    """The region code the user's jurisdiction starts at.

    None means unrestricted (platform superuser); "" means nothing at all.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return ""
    if user.is_superuser:
        return None
    region = getattr(user, "region", None)
    return region.code if region is not None else ""


class ScopedQuerySet(AuditedQuerySet):
    def restrict(self, user: User | AnonymousUser | None) -> Self:
        """Only the rows inside the user's jurisdiction."""
        return self.filter(self.model.jurisdiction_q(user))


class ScopedModel(models.Model):
    """Abstract base for records bound to a region of the hierarchy."""

    scope_path: ClassVar[str] = "region__code"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def jurisdiction_q(cls, user: User | AnonymousUser | None) -> Q:
        prefix = scope_prefix(user)
        if prefix is None:
            return Q()
        if not prefix:
            return NOTHING
        return Q(**{f"{cls.scope_path}__under": prefix})


def in_jurisdiction(user: User | AnonymousUser | None, code: str) -> bool:
    """Whether a region code lies inside the user's jurisdiction (no query)."""
    prefix = scope_prefix(user)
    return prefix is None or (bool(prefix) and code.startswith(prefix))


class ScopedQuerysetMixin:
    """For class-based pages: the view's queryset restricted to the logged-in user, so a
    detail page of a foreign object answers 404. Use with LoginRequiredMixin."""

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user)
