import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.api.filters import SubtreeFilter
from governance.codes import Level
from grids.choices import GridType, SizingFlag, Terrain
from grids.models import Region, sizing_conditions


class RegionFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="code")
    parent = django_filters.CharFilter(field_name="parent__code", label=_("上级区划代码"))
    level = django_filters.TypedChoiceFilter(choices=Level.choices, coerce=int)
    terrain = django_filters.ChoiceFilter(choices=Terrain.choices)
    grid_type = django_filters.ChoiceFilter(choices=GridType.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")
    flag = django_filters.ChoiceFilter(choices=SizingFlag.choices, method="filter_flag", label=_("规模预警"))

    class Meta:
        model = Region
        fields = ["under", "parent", "level", "terrain", "is_urban", "grid_type", "name", "flag"]

    def filter_flag(self, queryset, name, value):
        # The queryset is annotated with sizing flags by the view.
        return queryset.filter(Q(level=Level.GRID) & sizing_conditions()[value])
