"""Filters of grid events: the queues, the ledger export and /api/v1/events/."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.api.filters import SubtreeFilter, id_filter
from grids.events.choices import EventSource, EventStatus, Urgency
from grids.events.models import GridEvent
from grids.events.sla import overdue_q


class EventFilterSet(django_filters.FilterSet):
    """Filters shared by the event queues, the ledger export and /api/v1/events/."""

    under = SubtreeFilter(field_name="region_code")
    # The row's own columns: no join, so no duplicates to remove (DISTINCT would defeat the indexes).
    status = django_filters.MultipleChoiceFilter(choices=EventStatus.choices, distinct=False)
    category = django_filters.CharFilter(method="filter_category", label=_("类别代码（含子类）"))
    urgency = django_filters.MultipleChoiceFilter(choices=Urgency.choices, distinct=False)
    source = django_filters.MultipleChoiceFilter(choices=EventSource.choices, distinct=False)
    reported_from = django_filters.DateFilter(field_name="reported_at", lookup_expr="date__gte", label=_("上报日期起"))
    reported_to = django_filters.DateFilter(field_name="reported_at", lookup_expr="date__lte", label=_("上报日期止"))
    department = id_filter(field_name="lead_department", label=_("牵头部门"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("已超期"))
    q = django_filters.CharFilter(method="search", label=_("关键词"))

    class Meta:
        model = GridEvent
        fields = [
            "under",
            "status",
            "category",
            "urgency",
            "source",
            "reported_from",
            "reported_to",
            "department",
            "overdue",
            "q",
        ]

    def filter_category(self, queryset, name, value):
        return queryset.filter(Q(category__code=value) | Q(category__parent__code=value))

    def filter_overdue(self, queryset, name, value):
        from django.utils import timezone

        overdue = overdue_q(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value) | Q(description__icontains=value) | Q(address__icontains=value)
        )
