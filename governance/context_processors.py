"""Template context shared by every page: the navigation the user's role may use."""

from django.urls import reverse
from django.utils.translation import gettext as _

from .choices import Role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    from grids.events.views import can_use_queue, is_department_handler, unread_notifications

    items = [(_("工作台"), reverse("home"))]
    if user.can("dashboard.view"):
        items.append((_("综治看板"), reverse("dashboard:index")))
    # Grid events, by role (SPEC §1).
    if user.role == Role.GRID_WORKER:
        items += [
            (_("上报事件"), reverse("events:event-new")),
            (_("我的事件"), reverse("events:mine")),
            (_("走访记录"), reverse("events:visit-new")),
        ]
    if can_use_queue(user):
        items.append((_("事件受理"), reverse("events:queue")))
    if is_department_handler(user):
        items.append((_("部门待办"), reverse("events:department")))
    # Mediation cases (SPEC §4).
    if user.role == Role.MEDIATOR:
        items.append((_("调解工作台"), reverse("disputes:board")))
    elif user.is_superuser or user.role in (Role.CENTRE_STAFF, Role.COMMITTEE_STAFF):
        items.append((_("矛盾纠纷"), reverse("disputes:board")))
    # Assessment (SPEC §5): results for staff who read or run them, inputs for those who enter them.
    if user.is_superuser or user.role in (Role.CENTRE_STAFF, Role.COMMITTEE_STAFF, Role.ASSESSOR):
        items.append((_("综治考核"), reverse("assessment:cycles")))
    if user.can("assessment.inputs"):
        items.append((_("考核填报"), reverse("assessment:inputs")))
    items.append((_("区划与网格"), reverse("grids:region-root")))
    if user.can("region.import"):
        items.append((_("导入区划"), reverse("grids:region-import")))
        items.append((_("历史数据"), reverse("interchange:records")))
    if user.can("department.change") or user.can("user.view"):
        items.append((_("职能部门"), reverse("governance:department-list")))
    if user.can("audit.view"):
        items.append((_("审计日志"), reverse("governance:audit-list")))
    unread = unread_notifications(user)
    label = _("通知（%(n)s）") % {"n": unread} if unread else _("通知")
    items.append((label, reverse("events:notifications")))
    items.append((_("接口文档"), reverse("api-docs")))
    if user.is_superuser:
        items.append((_("系统配置"), reverse("admin:index")))
    return {"nav_items": items}
