"""Reads of grid events."""

from __future__ import annotations

from governance.codes import Level, ancestors, level_of


def dispatch_departments(*, event, user):
    """The departments an event may be dispatched to (中心吹哨、部门报到, docs/decisions.md):
    the active departments of the regions that contain the event's place, from its village up to
    its county — or up to the dispatcher's own region when that lies above the county. A sibling
    township's 派出所 is never offered; the township centre reaches its county's 公安局 too."""
    from governance.models import Department

    top = Level.COUNTY
    if user.region_id is not None:
        top = min(top, level_of(user.region.code))
    elif user.is_superuser:
        top = Level.PROVINCE
    codes = ancestors(event.region_code, include_self=True, top=top)
    return Department.objects.filter(is_active=True, region__code__in=codes)
