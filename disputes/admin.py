from django.contrib import admin

from governance.admin import HistoryInline, ScopedAdminMixin

from .models import Case, CaseHistory, MediationOrganisation


@admin.register(MediationOrganisation)
class MediationOrganisationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "region", "host", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "region__code"]
    raw_id_fields = ["region", "department", "host"]


class CaseHistoryInline(HistoryInline):
    model = CaseHistory


@admin.register(Case)
class CaseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-mostly: cases are registered and moved through the services (pages and API)."""

    list_display = ["number", "title", "dispute_type", "risk_level", "status", "organisation", "registered_at"]
    list_filter = ["status", "dispute_type", "risk_level", "is_repeat"]
    search_fields = ["number", "title"]
    readonly_fields = [f.name for f in Case._meta.concrete_fields]
    inlines = [CaseHistoryInline]

    def has_add_permission(self, request):
        return False
