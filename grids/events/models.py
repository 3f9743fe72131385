"""Grid events (网格事件): categories, time-limit policies, the event record and its trail."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from governance.audit import AuditedModel
from governance.choices import DepartmentKind, Role
from governance.codes import Level, RegionCodeField, ancestor_code, province_code_field
from governance.scoping import ScopedModel, ScopedQuerySet
from grids.events.choices import (
    UNRESOLVED_STATUSES,
    AttachmentStage,
    DeadlineKind,
    DispatchRole,
    DispatchState,
    EventSource,
    EventStatus,
    Feedback,
    LimitUnit,
    Urgency,
)


class EventCategory(AuditedModel):
    """事件类别: a two-level, editable taxonomy; each category names the kind of department
    that handles it by default (the department of that kind at the dispatching level)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True, help_text=_("也用作 Open311 的 service_code。"))
    name = models.CharField(_("名称"), max_length=50)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级类别")
    )
    default_department_kind = models.CharField(
        _("默认承办部门"), max_length=16, choices=DepartmentKind.choices, blank=True
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        app_label = "grids"
        verbose_name = _("事件类别")
        verbose_name_plural = _("事件类别")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        super().clean()
        if self.parent_id and self.parent.parent_id:
            raise ValidationError({"parent": _("事件类别最多两级。")})

    @property
    def department_kind(self) -> str:
        """The default department kind, inherited from the parent when not set."""
        if self.default_department_kind:
            return self.default_department_kind
        return self.parent.default_department_kind if self.parent_id else ""


class SlaPolicy(AuditedModel):
    """时限规则 for a category × urgency (category blank = every category without its own rule).

    Limits run from the report (respond, resolve) and from the resolution (feedback).
    """

    category = models.ForeignKey(
        EventCategory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("类别"),
    )
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices)
    respond_value = models.PositiveIntegerField(_("响应时限"))
    respond_unit = models.CharField(_("响应时限单位"), max_length=16, choices=LimitUnit.choices)
    resolve_value = models.PositiveIntegerField(_("办结时限"))
    resolve_unit = models.CharField(_("办结时限单位"), max_length=16, choices=LimitUnit.choices)
    feedback_value = models.PositiveIntegerField(_("回访时限"))
    feedback_unit = models.CharField(_("回访时限单位"), max_length=16, choices=LimitUnit.choices)

    class Meta:
        app_label = "grids"
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency"], name="sla_unique_category_urgency"),
            models.UniqueConstraint(
                fields=["urgency"], condition=Q(category__isnull=True), name="sla_unique_default_urgency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or _('默认')} · {self.get_urgency_display()}"


class CalendarException(AuditedModel):
    """法定节假日调整: a dated exception to the working calendar (a holiday or a swapped working day),
    maintained by staff once the State Council announces a year; it overrides the calendar package."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        app_label = "grids"
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'}"


class GridEventQuerySet(ScopedQuerySet):
    pass


class GridEvent(ScopedModel, AuditedModel):
    """网格事件: anything found or reported in a grid, from report to archive.

    `region` is the grid (or, for resident and hotline reports that name no grid, the
    village / community) where it happened; `region_code` copies its code so that subtree
    filters and the assessment's aggregates need no join. The deadlines are stored when the
    event is reported (feedback: when it is resolved), so overdue checks are comparisons.
    """

    client_uuid = models.UUIDField(_("客户端编号"), unique=True, default=uuid.uuid4, editable=False)
    category = models.ForeignKey(EventCategory, on_delete=models.PROTECT, related_name="events", verbose_name=_("类别"))
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("描述"), max_length=4000)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    source = models.CharField(_("来源"), max_length=12, choices=EventSource.choices)
    region = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="events", verbose_name=_("所在网格")
    )
    region_code = RegionCodeField(_("区划代码"), max_length=15, db_index=True, editable=False)
    province_code = province_code_field()
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    reporter = models.ForeignKey(
        "governance.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_events",
        verbose_name=_("上报人"),
        db_index=False,  # covered by event_reporter_reported_idx (reporter, reported_at)
    )
    reporter_name = models.CharField(_("反映人"), max_length=50, blank=True)
    contact_phone = models.TextField(_("联系电话（加密）"), blank=True, editable=False)
    contact_phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=EventStatus.choices,
        default=EventStatus.REPORTED,
        db_index=False,  # served by event_status_region_idx (status, region_code)
    )
    handling_level = models.PositiveSmallIntegerField(_("当前受理层级"), choices=Level.choices, default=Level.VILLAGE)
    lead_department = models.ForeignKey(
        "governance.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_events",
        verbose_name=_("牵头部门"),
    )
    self_handled = models.BooleanField(_("网格员自办"), default=False)
    resolved_level = models.PositiveSmallIntegerField(_("化解层级"), choices=Level.choices, null=True, blank=True)
    # The first resolution and the last reopening (the export restores step times from them); the
    # state at a period end is read from WithdrawnResolution and the resolution standing now.
    first_resolved_at = models.DateTimeField(_("首次办结时间"), null=True, blank=True, editable=False)
    first_resolved_level = models.PositiveSmallIntegerField(
        _("首次化解层级"), choices=Level.choices, null=True, blank=True, editable=False
    )
    reopened_at = models.DateTimeField(_("重新办理时间"), null=True, blank=True, editable=False)
    resolution = models.TextField(_("办理结果"), blank=True)
    return_reason = models.CharField(_("退回理由"), max_length=200, blank=True)
    feedback = models.CharField(_("回访评价"), max_length=12, choices=Feedback.choices, blank=True)
    feedback_note = models.CharField(_("回访记录"), max_length=500, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="likely_duplicates",
        verbose_name=_("疑似重复"),
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_events", verbose_name=_("合并至")
    )

    reported_at = models.DateTimeField(_("上报时间"), db_index=True)
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True, db_index=True)
    verified_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    feedback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    respond_deadline = models.DateTimeField(_("响应期限"))
    resolve_deadline = models.DateTimeField(_("办结期限"), db_index=True)
    feedback_deadline = models.DateTimeField(_("回访期限"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = GridEventQuerySet.as_manager()
    scope_path = "region_code"
    audit_exclude = ("updated_at", "contact_phone", "contact_phone_index")

    class Meta:
        app_label = "grids"
        verbose_name = _("网格事件")
        verbose_name_plural = _("网格事件")
        ordering = ["-reported_at", "-pk"]
        indexes = [
            # A subtree's events newest first: `__under` (LIKE 'X%') reads the range of its codes, and the id
            # included lets a list page pick its 50 ids from the index alone (governance.counting.BoundedPaginator).
            models.Index(
                fields=["region_code", "reported_at"],
                name="event_region_list_idx",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
                include=["id"],
            ),
            # a grid worker's events in a period (assessment indicator D02)
            models.Index(fields=["reporter", "reported_at"], name="event_reporter_reported_idx"),
            models.Index(fields=["status", "resolve_deadline"], name="event_status_deadline_idx"),
            # The counters (home card, queue chips, bounded list counts): a subtree's events of one status —
            # status first, then the range of the subtree's codes (it also serves every lookup by status,
            # so it replaces the plain index on status) — and a subtree's unresolved events by deadline
            # (overdue), a partial index of a small share of the table (docs/decisions.md, "Bounded list counts").
            models.Index(
                fields=["status", "region_code"],
                name="event_status_region_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],  # PostgreSQL: for `__under` (LIKE 'X%')
            ),
            models.Index(
                fields=["region_code", "resolve_deadline"],
                name="event_unresolved_region_idx",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
                condition=Q(status__in=sorted(UNRESOLVED_STATUSES)),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def save(self, *args, **kwargs):
        if self.resolved_at and self.first_resolved_at is None:  # rows written outside the services
            self.first_resolved_at, self.first_resolved_level = self.resolved_at, self.resolved_level
        super().save(*args, **kwargs)

    @classmethod
    def jurisdiction_q(cls, user) -> Q:
        """Region scoping, narrowed for department handlers to what was dispatched to their
        department (SPEC §1: "items dispatched to their department in their region")."""
        q = super().jurisdiction_q(user)
        if getattr(user, "is_authenticated", False) and not user.is_superuser and user.role == Role.DEPARTMENT_HANDLER:
            dispatched = EventDispatch.objects.filter(event=OuterRef("pk"), department_id=user.department_id)
            q &= Q(Exists(dispatched))
        return q

    @property
    def is_open(self) -> bool:
        from grids.events.choices import OPEN_STATUSES

        return self.status in OPEN_STATUSES

    def handling_region_code(self) -> str:
        """The code of the region whose centre currently holds the event."""
        return ancestor_code(self.region_code, self.handling_level)


class _EventChild(ScopedModel):
    """Rows that belong to an event are scoped through it."""

    scope_path = "event__region_code"

    class Meta:
        abstract = True


class EventHistory(_EventChild):
    """事件流转记录: one row per transition, attributed and timestamped (append-only)."""

    event = models.ForeignKey(GridEvent, on_delete=models.CASCADE, related_name="history", verbose_name=_("事件"))
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        "governance.User", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人")
    )
    actor_name = models.CharField(_("操作人"), max_length=100)
    action = models.CharField(_("操作"), max_length=24)
    from_status = models.CharField(_("原状态"), max_length=12, choices=EventStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, choices=EventStatus.choices)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        app_label = "grids"
        verbose_name = _("事件流转记录")
        verbose_name_plural = _("事件流转记录")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["event", "at"], name="eventhistory_event_at_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.action}"


class WithdrawnResolution(_EventChild):
    """被重新办理的办结: a resolution that a failed check (核查不通过) took back. It stood from
    `resolved_at` until `reopened_at`; the resolution standing now is on the event itself.

    Written by the same lifecycle step (grids.events.lifecycle.reopen) for the live services and the
    historical import, append-only. The assessment reads an event's state at any period end
    from these rows and the event (SPEC §5.2, reopenings)."""

    event = models.ForeignKey(
        GridEvent, on_delete=models.CASCADE, related_name="withdrawn_resolutions", verbose_name=_("事件")
    )
    resolved_at = models.DateTimeField(_("办结时间"))
    level = models.PositiveSmallIntegerField(_("化解层级"), choices=Level.choices)
    reopened_at = models.DateTimeField(_("重新办理时间"))

    class Meta:
        app_label = "grids"
        verbose_name = _("被重新办理的办结")
        verbose_name_plural = _("被重新办理的办结")
        ordering = ["event", "resolved_at", "pk"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.resolved_at:%Y-%m-%d} – {self.reopened_at:%Y-%m-%d}"


class EventDispatch(_EventChild, AuditedModel):
    """事件分派: the event sent to a department, as lead (牵头) or collaborator (协办)."""

    event = models.ForeignKey(GridEvent, on_delete=models.CASCADE, related_name="dispatches", verbose_name=_("事件"))
    department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="dispatches", verbose_name=_("部门")
    )
    role = models.CharField(_("角色"), max_length=12, choices=DispatchRole.choices)
    state = models.CharField(_("状态"), max_length=10, choices=DispatchState.choices, default=DispatchState.PENDING)
    dispatched_at = models.DateTimeField(_("分派时间"))
    answered_at = models.DateTimeField(_("签收/退回时间"), null=True, blank=True)
    return_reason = models.CharField(_("退回理由"), max_length=200, blank=True)

    class Meta:
        app_label = "grids"
        verbose_name = _("事件分派")
        verbose_name_plural = _("事件分派")
        ordering = ["dispatched_at", "pk"]
        indexes = [models.Index(fields=["department", "state"], name="dispatch_department_state_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.department}"


def attachment_path(instance: EventAttachment, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"events/{ancestor_code(instance.event.region_code, Level.COUNTY)}/{uuid.uuid4().hex}.{extension}"


class EventAttachment(_EventChild, AuditedModel):
    """事件附件: a photo or file, downloadable only inside the event's jurisdiction."""

    event = models.ForeignKey(GridEvent, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("事件"))
    file = models.FileField(_("文件"), upload_to=attachment_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小"))
    stage = models.CharField(_("阶段"), max_length=12, choices=AttachmentStage.choices, default=AttachmentStage.REPORT)
    uploaded_by = models.ForeignKey("governance.User", on_delete=models.PROTECT, null=True, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        app_label = "grids"
        verbose_name = _("事件附件")
        verbose_name_plural = _("事件附件")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Supervision(_EventChild, AuditedModel):
    """督办: an overdue limit taken up by the next level up (one per event and limit)."""

    event = models.ForeignKey(GridEvent, on_delete=models.CASCADE, related_name="supervisions", verbose_name=_("事件"))
    kind = models.CharField(_("超期事项"), max_length=10, choices=DeadlineKind.choices)
    supervising_region = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="supervisions", verbose_name=_("督办单位")
    )
    deadline = models.DateTimeField(_("期限"))
    created_at = models.DateTimeField(_("督办时间"))
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        app_label = "grids"
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["event", "kind"], name="supervision_once_per_limit")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.get_kind_display()}"


class Notification(models.Model):
    """站内通知 to one user (warnings, supervision, dispatches); `key` makes sending idempotent."""

    user = models.ForeignKey("governance.User", on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(GridEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    key = models.CharField(max_length=80)
    message = models.CharField(_("内容"), max_length=300)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        app_label = "grids"
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")]

    def __str__(self) -> str:
        return self.message


class VisitRecord(ScopedModel, AuditedModel):
    """走访记录: a grid worker's daily log of household visits."""

    grid = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="visits", verbose_name=_("网格"))
    worker = models.ForeignKey(
        "governance.User",
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("网格员"),
        db_index=False,  # covered by visit_worker_date_idx
    )
    date = models.DateField(_("日期"))
    households_visited = models.PositiveSmallIntegerField(_("走访户数"))
    notes = models.TextField(_("走访情况"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    client_uuid = models.UUIDField(
        _("客户端编号"),
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_("记录方生成的编号：同一编号重发时返回已保存的记录，不会重复记录。"),
    )

    scope_path = "grid__code"

    class Meta:
        app_label = "grids"
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-date", "-pk"]
        constraints = [models.UniqueConstraint(fields=["worker", "grid", "date"], name="visit_once_per_day")]
        # a grid worker's visits in a period (assessment indicator D02)
        indexes = [models.Index(fields=["worker", "date"], name="visit_worker_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.grid_id}"


class Webhook(ScopedModel, AuditedModel):
    """出站回调: a department system's URL that receives dispatches and status changes (HMAC-signed)."""

    department = models.ForeignKey(
        "governance.Department", on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("部门")
    )
    url = models.URLField(_("回调地址"), max_length=300)
    secret = models.CharField(_("签名密钥"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    scope_path = "department__region__code"
    audit_redact = ("secret",)

    class Meta:
        app_label = "grids"
        verbose_name = _("回调地址")
        verbose_name_plural = _("回调地址")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One notification to one webhook; `key` makes queuing idempotent, attempts are retried by Celery."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    key = models.CharField(max_length=100)
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "grids"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["webhook", "key"], name="delivery_once_per_key")]

    def __str__(self) -> str:
        return f"{self.webhook_id}:{self.key}"
