"""What comes after the scores (SPEC §5.4): appeals on a score line, the data-credibility flags and
the report bundles of a cycle.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.audit import AuditedModel
from governance.codes import RegionCodeField
from governance.scoping import ScopedModel

from ..choices import AppealStatus, FlagRule, JobStatus
from .catalogue import SCORE_DIGITS
from .cycles import Cycle
from .inputs import UnitCode


class ScoreAppeal(UnitCode, ScopedModel, AuditedModel):
    """申诉: a unit disputes one indicator line of a published cycle; the committee above it
    decides. An upheld appeal is an input of scoring (its adjusted 得分率 replaces the computed
    one at every run), never an edit of the stored result."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="appeals", verbose_name=_("考核周期"))
    unit = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True, editable=False)
    indicator = models.CharField(_("指标"), max_length=8)
    reasons = models.TextField(_("申诉理由"), max_length=4000)
    evidence = models.FileField(_("证明材料"), upload_to="assessment/appeals/%Y/")
    status = models.CharField(_("状态"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.FILED)
    points_at_filing = models.DecimalField(_("申诉时得分"), **SCORE_DIGITS)
    ratio_at_filing = models.DecimalField(_("申诉时得分率"), null=True, blank=True, **SCORE_DIGITS)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("申诉时间"), default=timezone.now)
    decide_by = models.DateTimeField(_("答复期限"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    decision_note = models.TextField(_("处理意见"), max_length=4000, blank=True)
    adjusted_percent = models.DecimalField(
        _("调整后得分率（%）"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    supervised_at = models.DateTimeField(_("督办时间"), null=True, blank=True)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("考核申诉")
        verbose_name_plural = _("考核申诉")
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "unit", "indicator"], name="appeal_once_per_line"),
            models.CheckConstraint(
                condition=~Q(status=AppealStatus.UPHELD) | Q(adjusted_percent__isnull=False),
                name="appeal_upheld_has_adjustment",
            ),
        ]
        indexes = [models.Index(fields=["status", "decide_by"], name="appeal_status_deadline_idx")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.indicator} {self.get_status_display()}"


class CredibilityFlag(ScopedModel):
    """智能预警: a data-credibility check that fired for a unit over a period. It keeps the
    measured figures and the records behind them (opened like a trace) and never changes a score.
    The checks replace their flags of a period and subtree as a whole on every run."""

    rule = models.CharField(_("预警规则"), max_length=24, choices=FlagRule.choices)
    region = models.ForeignKey("grids.Region", on_delete=models.CASCADE, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True)
    first = models.DateField(_("起始日期"))
    last = models.DateField(_("截止日期"))
    figures = models.JSONField(_("数据"), default=dict)
    record_model = models.CharField(max_length=40)
    record_ids = models.JSONField(default=list)
    found_at = models.DateTimeField(_("发现时间"), default=timezone.now)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("数据可信度预警")
        verbose_name_plural = _("数据可信度预警")
        ordering = ["region_code", "rule", "-first"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "region", "first", "last"], name="flag_once_per_period"),
        ]
        indexes = [models.Index(fields=["first", "last", "region_code"], name="flag_period_region_idx")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.get_rule_display()} {self.first}–{self.last}"


class ReportBundle(ScopedModel):
    """A ZIP of the diagnostic reports (绩效诊断报告) of every unit of a cycle under one region,
    built by a Celery job with its progress; one per cycle and region, rebuilt on request."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="report_bundles")
    region_code = RegionCodeField(max_length=15, db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    note = models.CharField(_("进度说明"), max_length=100, blank=True)
    units = models.PositiveIntegerField(_("单位数"), default=0)
    file = models.FileField(_("文件"), upload_to="assessment/reports/%Y/", blank=True)
    error = models.TextField(_("错误"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("诊断报告打包")
        verbose_name_plural = _("诊断报告打包")
        constraints = [models.UniqueConstraint(fields=["cycle", "region_code"], name="bundle_once_per_region")]

    def __str__(self) -> str:
        return f"{self.cycle_id}:{self.region_code}"
