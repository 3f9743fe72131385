"""Choices of grid events (网格事件): urgency, sources, states, deadlines, dispatches."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class EventSource(models.TextChoices):
    PATROL = "patrol", _("网格巡查")
    VISIT = "visit", _("入户走访")
    RESIDENT = "resident", _("群众随手拍")
    HOTLINE = "hotline", _("12345热线")
    DEPARTMENT = "department", _("部门移交")
    SENSOR = "sensor", _("感知设备")


class EventStatus(models.TextChoices):
    REPORTED = "reported", _("已上报")
    ACCEPTED = "accepted", _("已受理")
    RETURNED = "returned", _("已退回")
    DISPATCHED = "dispatched", _("已分派")
    HANDLING = "handling", _("办理中")
    RESOLVED = "resolved", _("已办结")
    VERIFIED = "verified", _("已核查")
    FEEDBACK = "feedback", _("已回访")
    CLOSED = "closed", _("已归档")
    CONVERTED = "converted", _("已转矛盾纠纷")
    MERGED = "merged", _("已合并")


class PublicStatus(models.TextChoices):
    """What a resident who reported (随手拍) is told about their report; nothing internal."""

    WAITING = "waiting", _("等待受理")
    HANDLING = "handling", _("正在办理")
    DONE = "done", _("已办结")
    NOT_ACCEPTED = "not_accepted", _("未予受理")
    MERGED = "merged", _("已与反映同一问题的其他事件合并办理")
    MEDIATION = "mediation", _("已转入矛盾纠纷调解")


PUBLIC_STATUS = {
    EventStatus.REPORTED: PublicStatus.WAITING,
    EventStatus.ACCEPTED: PublicStatus.HANDLING,
    EventStatus.DISPATCHED: PublicStatus.HANDLING,
    EventStatus.HANDLING: PublicStatus.HANDLING,
    EventStatus.RESOLVED: PublicStatus.DONE,
    EventStatus.VERIFIED: PublicStatus.DONE,
    EventStatus.FEEDBACK: PublicStatus.DONE,
    EventStatus.CLOSED: PublicStatus.DONE,
    EventStatus.RETURNED: PublicStatus.NOT_ACCEPTED,
    EventStatus.MERGED: PublicStatus.MERGED,
    EventStatus.CONVERTED: PublicStatus.MEDIATION,
}


# Statuses in which an event still needs work (the SLA sweep and queues look at these).
OPEN_STATUSES = frozenset(
    {
        EventStatus.REPORTED,
        EventStatus.ACCEPTED,
        EventStatus.DISPATCHED,
        EventStatus.HANDLING,
        EventStatus.RESOLVED,
        EventStatus.VERIFIED,
        EventStatus.FEEDBACK,
    }
)
# Before resolution: the response and resolve clocks still run.
UNRESOLVED_STATUSES = frozenset(
    {EventStatus.REPORTED, EventStatus.ACCEPTED, EventStatus.DISPATCHED, EventStatus.HANDLING}
)


class Feedback(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class LimitUnit(models.TextChoices):
    HOURS = "hours", _("小时")
    DAYS = "days", _("自然日")
    WORKING_DAYS = "working_days", _("工作日")


class DeadlineKind(models.TextChoices):
    RESPOND = "respond", _("响应")
    RESOLVE = "resolve", _("办结")
    FEEDBACK = "feedback", _("回访")


class DispatchRole(models.TextChoices):
    LEAD = "lead", _("牵头")
    COLLABORATOR = "collaborator", _("协办")


class DispatchState(models.TextChoices):
    PENDING = "pending", _("待签收")
    ACCEPTED = "accepted", _("已签收")
    RETURNED = "returned", _("已退回")
    CLOSED = "closed", _("已结束")


class AttachmentStage(models.TextChoices):
    REPORT = "report", _("上报")
    RESOLUTION = "resolution", _("办结")
    VERIFICATION = "verification", _("核查")
