from django.contrib import admin

from governance.admin import HistoryInline, ScopedAdminMixin
from grids.events.models import CalendarException, EventCategory, EventHistory, GridEvent, SlaPolicy, Webhook


@admin.register(EventCategory)
class EventCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "default_department_kind", "is_active", "sort_order"]
    list_filter = ["is_active", "default_department_kind"]
    search_fields = ["code", "name"]
    ordering = ["sort_order", "code"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "category",
        "urgency",
        "respond_value",
        "respond_unit",
        "resolve_value",
        "resolve_unit",
        "feedback_value",
        "feedback_unit",
    ]
    list_filter = ["urgency"]


@admin.register(CalendarException)
class CalendarExceptionAdmin(admin.ModelAdmin):
    """节假日调整: staff enter the State Council's schedule for years the calendar package does not know."""

    list_display = ["date", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"

    def changelist_view(self, request, extra_context=None):
        from django.contrib import messages

        from grids.events.sla import coverage_warning

        warning = coverage_warning()
        if warning:
            messages.warning(request, warning)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        """The staff pages' notice is cached for the day; an entered schedule ends it at once."""
        from grids.events.context_processors import forget_calendar_coverage

        super().save_model(request, obj, form, change)
        forget_calendar_coverage()


class EventHistoryInline(HistoryInline):
    model = EventHistory


@admin.register(GridEvent)
class GridEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["id", "title", "category", "urgency", "status", "region_code", "reported_at", "resolve_deadline"]
    list_filter = ["status", "urgency", "source"]
    search_fields = ["title", "region_code"]
    raw_id_fields = ["region", "reporter", "lead_department", "duplicate_of", "merged_into", "category"]
    readonly_fields = [
        "client_uuid",
        "region_code",
        "status",
        "reported_at",
        "respond_deadline",
        "resolve_deadline",
        "feedback_deadline",
    ]
    inlines = [EventHistoryInline]

    def has_add_permission(self, request):
        return False  # events are filed through the form, API or Open311, which apply the rules


@admin.register(Webhook)
class WebhookAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["department", "url", "is_active", "created_at"]
    list_filter = ["is_active"]
    raw_id_fields = ["department"]
