"""Django admin for configuration. Lists are scoped like every other page."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditLog, Department, ImportJob, User

admin.site.site_header = _("网格化综治平台 · 系统配置")
admin.site.site_title = _("网格化综治平台")


class ScopedAdminMixin:
    """The admin's querysets go through the same jurisdiction restriction as the pages and API."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user)


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Records that change only through their services (the trail, decisions, checks, jobs): the
    admin reads them, scoped like every list, and never edits them."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryInline(admin.TabularInline):
    """A record's trail of transitions (events, cases) under its change page: shown, never added to or deleted."""

    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor_name", "action", "from_status", "to_status", "note"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Department)
class DepartmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "region__level", "is_active"]
    search_fields = ["name", "region__code", "region__name"]
    autocomplete_fields = ["region"]


@admin.register(User)
class UserAdmin(ScopedAdminMixin, BaseUserAdmin):
    list_display = ["username", "display_name", "role", "region", "department", "is_active", "locked_until"]
    list_filter = ["role", "is_active", "is_superuser"]
    search_fields = ["username", "display_name", "region__code"]
    autocomplete_fields = ["region", "department"]
    raw_id_fields = ["mediation_org"]
    readonly_fields = ["last_login", "date_joined", "failed_logins", "locked_until"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("身份与辖区"), {"fields": ("display_name", "role", "region", "department", "mediation_org")}),
        (
            _("状态"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "failed_logins",
                    "locked_until",
                    "last_login",
                    "date_joined",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("username", "password1", "password2", "role", "region", "department")},
        ),
    )


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyScopedAdmin):
    list_display = ["seq", "chain_seq", "at", "actor_name", "action", "model", "object_repr", "ip"]
    list_filter = ["action", "model"]
    search_fields = ["object_id", "object_repr", "actor_name"]


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Historical imports, read-only: a job is started from the /records/ page or import_records."""

    list_display = ["pk", "created_at", "user", "name", "dry_run", "status", "lines", "rejected_rows", "finished_at"]
    list_filter = ["status", "dry_run"]
    search_fields = ["name", "user__username"]
    exclude = ["report"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
