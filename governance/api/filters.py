"""Query filters shared by every API list: whole numbers checked to their range before they
reach the database, so a year of 0, an id past the 64-bit range or a moment with an impossible UTC offset
is a 400 field error, not a 500;
and `?under=CODE`, a region's subtree by its code."""

import datetime as dt

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

BIGINT_MAX = 2**63 - 1


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def id_filter(**kwargs) -> IntegerFilter:
    """A record id (a positive 64-bit integer)."""
    return IntegerFilter(min_value=1, max_value=BIGINT_MAX, **kwargs)


def year_filter(**kwargs) -> IntegerFilter:
    """A calendar year the platform can hold records for."""
    return IntegerFilter(min_value=1900, max_value=2100, **kwargs)


MAX_UTC_OFFSET = dt.timedelta(hours=14)  # the widest offset any zone uses (PostgreSQL refuses 16 h and more)


def plausible_moment(moment: dt.datetime) -> bool:
    """A moment the database can store and compare: years 1900–2100, a UTC offset of at most 14 hours."""
    offset = moment.utcoffset() or dt.timedelta(0)
    return 1900 <= moment.year <= 2100 and abs(offset) <= MAX_UTC_OFFSET


class MomentField(IsoDateTimeField):
    """An ISO 8601 moment between the years 1900 and 2100 with a real-world UTC offset; anything else
    is a field error (PostgreSQL would refuse an offset of +23:25 with a 500)."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        if not plausible_moment(moment):
            raise forms.ValidationError(_("请输入1900至2100年之间、时区偏移不超过±14:00的时间。"), code="invalid")
        return moment


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = MomentField


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
