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


def related_queryset(model, field_name: str):
    """Every row of the model that `model.field_name` points at. The foreign key is the model's
    own declaration (User.region → the hierarchy's Region, User.mediation_org → a mediation
    organisation), so the platform's serializers follow it instead of importing the apps above."""
    return model._meta.get_field(field_name).related_model._default_manager.all()
