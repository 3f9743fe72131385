from django.contrib import admin

from governance.admin import ScopedAdminMixin
from grids.models import GridWorker, Region


@admin.register(Region)
class RegionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "terrain", "is_urban", "population", "households"]
    list_filter = ["level", "terrain", "is_urban", "grid_type"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    ordering = ["code"]


@admin.register(GridWorker)
class GridWorkerAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "grid", "is_full_time", "started_on", "ended_on"]
    list_filter = ["is_full_time"]
    search_fields = ["name", "grid__code", "grid__name"]
    raw_id_fields = ["grid", "user"]
