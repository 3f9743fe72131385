import django_filters

from governance.api.filters import MomentFilter, SubtreeFilter, id_filter

from .choices import AuditAction, DepartmentKind, Role
from .models import AuditLog, Department, User


class DepartmentFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region__code")
    kind = django_filters.ChoiceFilter(choices=DepartmentKind.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Department
        fields = ["under", "kind", "name", "is_active"]


class UserFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region__code")
    role = django_filters.ChoiceFilter(choices=Role.choices)
    q = django_filters.CharFilter(method="search")

    class Meta:
        model = User
        fields = ["under", "role", "department", "is_active"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(username__icontains=value) | Q(display_name__icontains=value))


class AuditLogFilterSet(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    model = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    actor_id = id_filter()
    since = MomentFilter(field_name="at", lookup_expr="gte")
    until = MomentFilter(field_name="at", lookup_expr="lte")

    class Meta:
        model = AuditLog
        fields = ["action", "model", "object_id", "actor_id", "since", "until"]
