"""Relation fields whose choices are limited to the caller's jurisdiction.

An id outside it is answered like an id that does not exist ("无效"), so the API never
confirms that a foreign record is there.
"""

from django.utils.translation import get_language
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


class ChoiceLabelField(serializers.CharField):
    """The label of a model field's choice in the active language — what `get_<field>_display()` gives —
    looked up in a table built once per serializer and language instead of once per row: Django's
    `_get_FIELD_display` rebuilds and re-translates the whole choice list on every call, which was a
    quarter of the time a 50-row list spent serialising. `source` names the model field."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self._labels: dict[str, dict] = {}

    def to_representation(self, value):
        language = get_language()
        labels = self._labels.get(language)
        if labels is None:
            field = self.parent.Meta.model._meta.get_field(self.source)
            labels = self._labels[language] = {key: str(label) for key, label in field.flatchoices}
        return labels.get(value, str(value))
