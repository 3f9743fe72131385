"""The inputs that are not platform records (SPEC §5.2–§5.4): monthly core tables, survey answers,
assessor groups and scores, score reviews, veto rulings, innovation awards, tolerance claims and
rectification items.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.audit import AuditedModel
from governance.codes import Level, RegionCodeField
from governance.scoping import ScopedModel

from ..choices import (
    AwarenessAnswer,
    ClaimStatus,
    RectificationStatus,
    RulingStatus,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyChannel,
)
from .catalogue import SCORE_DIGITS
from .cycles import Cycle


def default_report_due_day() -> int:
    return settings.ASSESSMENT_REPORT_DUE_DAY


# The values a township reports each month, in the table's order.
REPORT_VALUE_FIELDS = (
    "funding_yuan",
    "mediators_fulltime",
    "mediators_parttime",
    "petitions_received",
    "petitions_resolved_first",
    "criminal_cases",
    "key_persons_registered",
    "key_persons_managed",
    "households_reached",
    "cadres",
    "cadres_on_track",
)


class UnitCode(models.Model):
    """An input of one assessed unit keeps the unit's code (`region_code`), by which it is scoped,
    filled from `unit` when it is first saved."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.unit_id and not self.region_code:
            self.region_code = self.unit.code
        super().save(*args, **kwargs)


class MonthlyReport(ScopedModel, AuditedModel):
    """综治考核核心指标表: one per township per month, due by the 5th of the next month."""

    township = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="monthly_reports",
        verbose_name=_("乡镇（街道）"),
        limit_choices_to={"level": Level.TOWNSHIP},
    )
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    month = models.DateField(_("月份"), help_text=_("当月第一天。"))
    deadline = models.DateTimeField(_("报送期限"))
    submitted_at = models.DateTimeField(_("报送时间"))
    is_late = models.BooleanField(_("逾期报送"), default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    funding_yuan = models.DecimalField(
        _("综治工作经费支出（元）"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    mediators_fulltime = models.PositiveIntegerField(_("专职调解员（人）"))
    mediators_parttime = models.PositiveIntegerField(_("兼职调解员（人）"))
    petitions_received = models.PositiveIntegerField(_("受理信访事项（件）"))
    petitions_resolved_first = models.PositiveIntegerField(_("一次性化解信访事项（件）"))
    criminal_cases = models.PositiveIntegerField(_("刑事案件发案数（起）"))
    key_persons_registered = models.PositiveIntegerField(_("重点人员登记数（人）"))
    key_persons_managed = models.PositiveIntegerField(_("重点人员在管数（人）"))
    households_reached = models.PositiveIntegerField(_("反诈宣传覆盖户数（户）"))
    cadres = models.PositiveIntegerField(_("基层干部数（人）"))
    cadres_on_track = models.PositiveIntegerField(_("培训学时达进度干部数（人）"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    scope_path = "region_code"
    audit_exclude = ("updated_at",)

    class Meta:
        verbose_name = _("核心指标月报")
        verbose_name_plural = _("核心指标月报")
        ordering = ["-month", "region_code"]
        constraints = [
            models.UniqueConstraint(fields=["township", "month"], name="monthly_report_once"),
            models.CheckConstraint(
                condition=Q(petitions_resolved_first__lte=models.F("petitions_received")),
                name="report_petitions_resolved_le_received",
            ),
            models.CheckConstraint(
                condition=Q(key_persons_managed__lte=models.F("key_persons_registered")),
                name="report_key_persons_managed_le_registered",
            ),
            models.CheckConstraint(
                condition=Q(cadres_on_track__lte=models.F("cadres")), name="report_cadres_on_track_le_cadres"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.month:%Y-%m}"

    def save(self, *args, **kwargs):
        if self.township_id and not self.region_code:
            self.region_code = self.township.code
        self.is_late = bool(self.submitted_at and self.deadline and self.submitted_at > self.deadline)
        super().save(*args, **kwargs)


class SurveyResponse(ScopedModel):
    """One answer sheet of the public survey: online (QR code per village) or offline (household visit)."""

    village = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="survey_responses", verbose_name=_("村（社区）")
    )
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    channel = models.CharField(_("渠道"), max_length=8, choices=SurveyChannel.choices)
    answered_at = models.DateTimeField(_("答卷时间"), db_index=True)
    safety = models.CharField(_("安全感"), max_length=14, choices=SafetyAnswer.choices, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=SatisfactionAnswer.choices, blank=True)
    awareness = models.CharField(_("反诈知晓"), max_length=8, choices=AwarenessAnswer.choices, blank=True)
    household = models.CharField(_("样本户编号"), max_length=40, blank=True)
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_key = models.CharField(max_length=64, unique=True, help_text="idempotency key of the submission")

    scope_path = "region_code"

    class Meta:
        verbose_name = _("问卷答卷")
        verbose_name_plural = _("问卷答卷")
        ordering = ["-answered_at"]
        indexes = [models.Index(fields=["region_code", "answered_at"], name="survey_region_answered_idx")]

    def save(self, *args, **kwargs):
        if self.village_id and not self.region_code:
            self.region_code = self.village.code
        super().save(*args, **kwargs)


class AssessorGroup(ScopedModel, AuditedModel):
    """考核组: assessors (or a third-party evaluator) scoring assigned units in one cycle."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="groups", verbose_name=_("考核周期"))
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    name = models.CharField(_("名称"), max_length=60)
    is_third_party = models.BooleanField(_("第三方评估机构"), default=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="assessor_groups", blank=True)
    units = models.ManyToManyField("grids.Region", related_name="+", blank=True, verbose_name=_("负责单位"))

    scope_path = "region_code"

    class Meta:
        verbose_name = _("考核组")
        verbose_name_plural = _("考核组")
        ordering = ["cycle", "name"]
        constraints = [models.UniqueConstraint(fields=["cycle", "name"], name="group_name_once_per_cycle")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.cycle_id and not self.region_code:
            self.region_code = self.cycle.region_code
        super().save(*args, **kwargs)


class AssessorScore(UnitCode, ScopedModel, AuditedModel):
    """A group's 0–100 score of one qualitative indicator for one unit."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="scores")
    group = models.ForeignKey(AssessorGroup, on_delete=models.CASCADE, related_name="scores", verbose_name=_("考核组"))
    unit = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    indicator = models.CharField(_("指标"), max_length=8)
    score = models.DecimalField(
        _("评分"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.CharField(_("评分说明"), max_length=300, blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    scored_at = models.DateTimeField(_("评分时间"), default=timezone.now)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("考核组评分")
        verbose_name_plural = _("考核组评分")
        ordering = ["cycle", "region_code", "indicator", "group"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "group", "unit", "indicator"], name="score_once_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.indicator}：{self.score}"


class ScoreReview(UnitCode, ScopedModel, AuditedModel):
    """A reviewer's decision that unblocks finalisation: accept a spread > 15 as it is, or
    mark an assessed indicator not applicable for a unit."""

    class Kind(models.TextChoices):
        ACCEPT_SPREAD = "accept_spread", _("接受评分差异")
        NOT_APPLICABLE = "not_applicable", _("该单位不适用")

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="reviews")
    unit = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    indicator = models.CharField(_("指标"), max_length=8)
    kind = models.CharField(_("审核决定"), max_length=16, choices=Kind.choices)
    reason = models.CharField(_("理由"), max_length=300)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), default=timezone.now)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("评分审核")
        verbose_name_plural = _("评分审核")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "unit", "indicator", "kind"], name="review_once_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.indicator}：{self.get_kind_display()}"


class VetoRuling(UnitCode, ScopedModel, AuditedModel):
    """一票否决 ruling on one unit (V01–V03, V05), with evidence and an appeal path."""

    unit = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    indicator = models.CharField(_("否决指标"), max_length=8)
    occurred_on = models.DateField(_("发生日期"))
    description = models.TextField(_("事实与依据"), max_length=4000)
    evidence = models.FileField(_("证据材料"), upload_to="assessment/vetoes/%Y/", blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=RulingStatus.choices, default=RulingStatus.IN_FORCE)
    appeal_reason = models.TextField(_("申诉理由"), blank=True)
    decision_note = models.TextField(_("申诉处理意见"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("裁定时间"), default=timezone.now)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("一票否决裁定")
        verbose_name_plural = _("一票否决裁定")
        ordering = ["-occurred_on"]

    def __str__(self) -> str:
        return f"{self.indicator} {self.region_code} {self.occurred_on}"


class InnovationAward(UnitCode, ScopedModel, AuditedModel):
    """创新加分: 0–3 points per unit and year, with a reason."""

    unit = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    points = models.DecimalField(
        _("加分"), max_digits=4, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(3)]
    )
    reason = models.CharField(_("理由"), max_length=500)
    awarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    scope_path = "region_code"

    class Meta:
        verbose_name = _("创新加分")
        verbose_name_plural = _("创新加分")
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="award_once_per_year"),
            models.CheckConstraint(condition=Q(points__gte=0) & Q(points__lte=3), name="award_points_0_to_3"),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.year}：+{self.points}"


class ToleranceClaim(UnitCode, ScopedModel, AuditedModel):
    """容错: before finalisation a unit claims tolerance for one indicator; on approval half
    of the points lost on it are restored."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="tolerance_claims")
    unit = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    indicator = models.CharField(_("指标"), max_length=8)
    reasons = models.TextField(_("理由"), max_length=4000)
    evidence = models.FileField(_("证明材料"), upload_to="assessment/tolerance/%Y/", blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    claimed_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=300, blank=True)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("容错申请")
        verbose_name_plural = _("容错申请")
        constraints = [models.UniqueConstraint(fields=["cycle", "unit"], name="tolerance_once_per_unit")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.indicator}"


class RectificationItem(UnitCode, ScopedModel, AuditedModel):
    """问题清单—整改台账—复查销号: an indicator where a unit's r < 0.6 in a finalised cycle."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="rectifications")
    unit = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    indicator = models.CharField(_("指标"), max_length=8)
    ratio = models.DecimalField(_("得分率"), **SCORE_DIGITS)
    notice_due_on = models.DateField(_("整改通知书下发期限"))
    due_on = models.DateField(_("整改期限"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    report = models.TextField(_("整改报告"), blank=True)
    reported_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    closed_on = models.DateField(_("销号日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recurring = models.BooleanField(_("回头看（再次未达标）"), default=False)
    evidence = models.FileField(_("整改佐证材料"), upload_to="assessment/rectification/%Y/", blank=True)
    return_reason = models.CharField(_("退回理由"), max_length=500, blank=True)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("整改事项")
        verbose_name_plural = _("整改事项")
        ordering = ["due_on", "region_code", "indicator"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "unit", "indicator"], name="rectification_once_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.indicator}"


def month_deadline(month: dt.date, due_day: int | None = None) -> dt.datetime:
    """The end of the `due_day`-th day of the month after `month` (Asia/Shanghai)."""
    from grids.events.sla import END_OF_DAY

    day = due_day or settings.ASSESSMENT_REPORT_DUE_DAY
    nxt = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return timezone.make_aware(dt.datetime.combine(nxt.replace(day=day), END_OF_DAY))
