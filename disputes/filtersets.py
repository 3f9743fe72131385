import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.api.filters import SubtreeFilter, id_filter

from .choices import CaseStatus, DisputeType, OrgKind, RiskLevel
from .lifecycle import case_overdue_q
from .models import Case, MediationOrganisation


class MediationOrganisationFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region__code")
    kind = django_filters.MultipleChoiceFilter(choices=OrgKind.choices, distinct=False)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = MediationOrganisation
        fields = ["under", "kind", "is_active", "name"]


class CaseFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    # The row's own columns: no join, so no duplicates to remove (DISTINCT would defeat the indexes).
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices, distinct=False)
    dispute_type = django_filters.MultipleChoiceFilter(choices=DisputeType.choices, distinct=False)
    risk_level = django_filters.TypedMultipleChoiceFilter(choices=RiskLevel.choices, coerce=int, distinct=False)
    organisation = id_filter(field_name="organisation_id", label=_("调解组织"))
    registered_from = django_filters.DateFilter(
        field_name="registered_at", lookup_expr="date__gte", label=_("登记日期起")
    )
    registered_to = django_filters.DateFilter(
        field_name="registered_at", lookup_expr="date__lte", label=_("登记日期止")
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("已超期"))

    class Meta:
        model = Case
        fields = [
            "under",
            "status",
            "dispute_type",
            "risk_level",
            "is_repeat",
            "is_mass",
            "organisation",
            "registered_from",
            "registered_to",
            "overdue",
        ]

    def filter_overdue(self, queryset, name, value):
        """Still open (not concluded) and past the 30-day limit."""
        overdue = case_overdue_q(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
