"""The grid events' entries in the navigation bar (places: see governance.navigation)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.choices import Role
from governance.navigation import register


def _is_grid_worker(user) -> bool:
    return user.role == Role.GRID_WORKER


def _may_use_queue(user) -> bool:
    from .views.common import can_use_queue

    return can_use_queue(user)


def _handles_for_a_department(user) -> bool:
    from .views.common import is_department_handler

    return is_department_handler(user)


def _notifications_label(user) -> str:
    from .views.inbox import unread_notifications

    unread = unread_notifications(user)
    return _("通知（%(n)s）") % {"n": unread} if unread else _("通知")


def register_navigation() -> None:
    register(
        "event-new", place=30, url_name="events:event-new", label=gettext_lazy("上报事件"), visible=_is_grid_worker
    )
    register("events-mine", place=31, url_name="events:mine", label=gettext_lazy("我的事件"), visible=_is_grid_worker)
    register(
        "visit-new", place=32, url_name="events:visit-new", label=gettext_lazy("走访记录"), visible=_is_grid_worker
    )
    register("event-queue", place=40, url_name="events:queue", label=gettext_lazy("事件受理"), visible=_may_use_queue)
    register(
        "department-queue",
        place=41,
        url_name="events:department",
        label=gettext_lazy("部门待办"),
        visible=_handles_for_a_department,
    )
    register("notifications", place=90, url_name="events:notifications", label=_notifications_label)
