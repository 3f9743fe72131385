"""Template context shared by every page: the navigation the user's role may use."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .choices import Role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    from grids.event_views import can_use_queue, is_department_handler, unread_notifications

    items = [(_lazy("工作台"), reverse("home"))]
    # Grid events, by role (SPEC §1).
    if user.role == Role.GRID_WORKER:
        items += [
            (_lazy("上报事件"), reverse("events:event-new")),
            (_lazy("我的事件"), reverse("events:mine")),
            (_lazy("走访记录"), reverse("events:visit-new")),
        ]
    if can_use_queue(user):
        items.append((_lazy("事件受理"), reverse("events:queue")))
    if is_department_handler(user):
        items.append((_lazy("部门待办"), reverse("events:department")))
    items.append((_lazy("区划与网格"), reverse("grids:region-root")))
    if user.can("region.import"):
        items.append((_lazy("导入区划"), reverse("grids:region-import")))
    if user.can("department.change") or user.can("user.view"):
        items.append((_lazy("职能部门"), reverse("governance:department-list")))
    if user.can("audit.view"):
        items.append((_lazy("审计日志"), reverse("governance:audit-list")))
    unread = unread_notifications(user)
    label = _("通知（%(n)s）") % {"n": unread} if unread else _("通知")
    items.append((label, reverse("events:notifications")))
    items.append((_lazy("接口文档"), reverse("api-docs")))
    if user.is_superuser:
        items.append((_lazy("系统配置"), reverse("admin:index")))
    return {"nav_items": items}
