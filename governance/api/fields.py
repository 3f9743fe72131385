"""Relation fields whose choices are limited to the caller's jurisdiction.

An id outside it is answered like an id that does not exist ("无效"), so the API never
confirms that a foreign record is there.
"""

from rest_framework import serializers


class _ScopedMixin:
    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        return queryset.restrict(request.user if request else None)


class ScopedPrimaryKeyRelatedField(_ScopedMixin, serializers.PrimaryKeyRelatedField):
    pass


class ScopedSlugRelatedField(_ScopedMixin, serializers.SlugRelatedField):
    pass
