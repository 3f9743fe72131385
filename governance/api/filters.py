"""Query filters shared by every API list: whole numbers checked to their range before they
reach the database, so a year of 0 or an id past the 64-bit range is a 400 field error, not a 500;
and `?under=CODE`, a region's subtree by its code."""

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

BIGINT_MAX = 2**63 - 1


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def id_filter(**kwargs) -> IntegerFilter:
    """A record id (a positive 64-bit integer)."""
    return IntegerFilter(min_value=1, max_value=BIGINT_MAX, **kwargs)


def year_filter(**kwargs) -> IntegerFilter:
    """A calendar year the platform can hold records for."""
    return IntegerFilter(min_value=1900, max_value=2100, **kwargs)


code_validator = RegexValidator(r"^\d{2,15}$", _("请输入2至15位数字的区划代码。"))


class SubtreeFilter(django_filters.CharFilter):
    """`?under=CODE`: the region CODE and everything below it (an indexed prefix match).

    Scoping has already cut the queryset to the caller's jurisdiction, so a code outside
    it simply yields nothing.
    """

    field_class = forms.CharField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("区划代码（含下级）"))
        super().__init__(*args, validators=[code_validator], **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__under": value})
