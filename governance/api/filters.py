"""Query filters shared by every API list: whole numbers checked to their range before they
reach the database, so a year of 0 or an id past the 64-bit range is a 400 field error, not a 500."""

import django_filters
from django import forms

BIGINT_MAX = 2**63 - 1


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def id_filter(**kwargs) -> IntegerFilter:
    """A record id (a positive 64-bit integer)."""
    return IntegerFilter(min_value=1, max_value=BIGINT_MAX, **kwargs)


def year_filter(**kwargs) -> IntegerFilter:
    """A calendar year the platform can hold records for."""
    return IntegerFilter(min_value=1900, max_value=2100, **kwargs)
