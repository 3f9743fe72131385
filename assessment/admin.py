"""The catalogue is edited here (indicators, their weights per profile, profile overrides);
every save shows the SPEC §5.1 validation, as errors (sums) or warnings (splits). Cycles and
results are read-only: they change only through the services."""

from django.contrib import admin, messages

from governance.admin import ReadOnlyScopedAdmin, ScopedAdminMixin

from . import catalogue
from .models import (
    CatalogueVersion,
    CredibilityFlag,
    Cycle,
    Indicator,
    IndicatorWeight,
    ProfileOverride,
    ReportBundle,
    ScoreAppeal,
    UnitResult,
    WeightProfile,
)


def _report_validation(request) -> None:
    result = catalogue.validate()
    for error in result.errors:
        messages.error(request, error)
    for warning in result.warnings:
        messages.warning(request, warning)


class WeightInline(admin.TabularInline):
    model = IndicatorWeight
    extra = 0


class ValidatedAdmin(admin.ModelAdmin):
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _report_validation(request)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            _report_validation(request)
        return super().changelist_view(request, extra_context)


@admin.register(Indicator)
class IndicatorAdmin(ValidatedAdmin):
    list_display = ["code", "name_zh", "dimension", "category", "nature", "source", "rule", "lead_department"]
    list_filter = ["dimension", "category", "nature", "source", "rule"]
    search_fields = ["code", "name_zh", "name_en"]
    ordering = ["sort_order", "code"]
    inlines = [WeightInline]


@admin.register(WeightProfile)
class WeightProfileAdmin(ValidatedAdmin):
    list_display = ["code", "name", "terrains", "is_default"]
    inlines = [WeightInline]


@admin.register(ProfileOverride)
class ProfileOverrideAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["region", "profile", "reason"]
    raw_id_fields = ["region"]


@admin.register(CatalogueVersion)
class CatalogueVersionAdmin(admin.ModelAdmin):
    list_display = ["number", "created_at", "digest"]
    readonly_fields = ["number", "digest", "data", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Cycle)
class CycleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "kind", "year", "quarter", "status", "runs", "computed_at", "finalised_at"]
    list_filter = ["kind", "status", "year"]
    readonly_fields = [f.name for f in Cycle._meta.concrete_fields]

    def has_add_permission(self, request):
        return False


@admin.register(UnitResult)
class UnitResultAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["cycle", "region_code", "level", "total", "rank", "peers"]
    list_filter = ["level"]
    search_fields = ["region_code"]
    readonly_fields = [f.name for f in UnitResult._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScoreAppeal)
class ScoreAppealAdmin(ReadOnlyScopedAdmin):
    list_display = ["cycle", "unit", "indicator", "status", "filed_at", "decide_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["unit__code", "indicator"]


@admin.register(CredibilityFlag)
class CredibilityFlagAdmin(ReadOnlyScopedAdmin):
    list_display = ["region_code", "rule", "first", "last", "found_at"]
    list_filter = ["rule"]
    search_fields = ["region_code"]


@admin.register(ReportBundle)
class ReportBundleAdmin(ReadOnlyScopedAdmin):
    list_display = ["cycle", "status", "progress", "units"]
    list_filter = ["status"]
