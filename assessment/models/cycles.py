"""Cycles and their stored results: a cycle (kind, year, root, levels, status), the sample of a
spot-check, and each unit's result, indicator lines and annual result. Results are computed by
`assessment.engine` and replaced as a whole on each run of an unfinalised cycle; a finalised cycle
is frozen together with the catalogue version it ran with.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.audit import AuditedModel
from governance.choices import Role
from governance.codes import Level, RegionCodeField
from governance.scoping import NOTHING, ScopedModel, scope_prefix

from ..choices import CycleKind, CycleStatus, Grade, LineStatus
from .catalogue import SCORE_DIGITS, CatalogueVersion


def _hides_spot_checks(user, prefix: str) -> bool:
    """Users at township level and below (not administrators) do not see a spot-check before its
    check date (四不两直)."""
    return len(prefix) >= 9 and getattr(user, "role", None) != Role.ADMIN


def _spot_check_visible(path: str = "") -> Q:
    return ~Q(**{f"{path}kind": CycleKind.SPOT_CHECK}) | Q(**{f"{path}check_date__lte": timezone.localdate()})


class ResultScoped(ScopedModel):
    """Results of a cycle: the unit's subtree, and spot-check results stay hidden from the
    sampled units until the check date, like the cycle itself."""

    scope_path = "region_code"

    class Meta:
        abstract = True

    @classmethod
    def jurisdiction_q(cls, user) -> Q:
        q = super().jurisdiction_q(user)
        prefix = scope_prefix(user)
        if prefix and _hides_spot_checks(user, prefix):
            q &= _spot_check_visible("cycle__")
        if prefix and getattr(user, "role", None) != Role.ADMIN:
            q &= _published_or_organised_by(prefix)
        return q


def _published_or_organised_by(prefix: str) -> Q:
    """Units below the region that runs a cycle see its results once they are published (公布);
    the organising committee and those above it see them as soon as they are computed."""
    above = [prefix[:n] for n in (2, 4, 6, 9, 12) if n < len(prefix)]
    return ~Q(cycle__region_code__in=above) | Q(cycle__published_at__isnull=False)


def _overlapping_codes(prefix: str) -> Q:
    """Rows whose region is the user's region, lies under it, or lies above it."""
    above = [prefix[:n] for n in (2, 4, 6, 9, 12) if n < len(prefix)]
    return Q(region_code__under=prefix) | Q(region_code__in=above)


class Cycle(ScopedModel, AuditedModel):
    """One assessment run for the subtree of `root` over one period (SPEC §5.3)."""

    kind = models.CharField(_("类型"), max_length=12, choices=CycleKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    quarter = models.PositiveSmallIntegerField(
        _("季度"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    root = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="cycles", verbose_name=_("组织单位")
    )
    region_code = RegionCodeField(_("区划代码"), max_length=15, db_index=True, editable=False)
    levels = models.JSONField(_("考核层级"), default=list)
    status = models.CharField(_("状态"), max_length=10, choices=CycleStatus.choices, default=CycleStatus.DRAFT)
    catalogue_version = models.ForeignKey(
        CatalogueVersion, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("指标体系版本")
    )
    seed = models.BigIntegerField(_("抽样随机种子"), null=True, blank=True)
    check_date = models.DateField(_("检查日期"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    progress_note = models.CharField(_("进度说明"), max_length=100, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    runs = models.PositiveIntegerField(_("运行次数"), default=0)
    records_read = models.BigIntegerField(_("读取记录数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    started_at = models.DateTimeField(_("开始计算时间"), null=True, blank=True)
    computed_at = models.DateTimeField(_("计算完成时间"), null=True, blank=True)
    finalised_at = models.DateTimeField(_("定稿时间"), null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    scope_path = "region_code"
    audit_exclude = ("progress", "progress_note")

    class Meta:
        verbose_name = _("考核周期")
        verbose_name_plural = _("考核周期")
        ordering = ["-year", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "quarter", "root"],
                condition=Q(quarter__isnull=False),
                name="cycle_once_per_quarter",
            ),
            models.UniqueConstraint(
                fields=["kind", "year", "root"], condition=Q(quarter__isnull=True), name="cycle_once_per_year_kind"
            ),
            models.CheckConstraint(
                condition=(Q(kind=CycleKind.SPOT_CHECK) & Q(quarter__isnull=False))
                | (~Q(kind=CycleKind.SPOT_CHECK) & Q(quarter__isnull=True)),
                name="cycle_quarter_only_for_spot_checks",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} · {self.root.name}"

    @property
    def title(self) -> str:
        """e.g. 2025年第1季度季度抽查 / "Quarterly spot-check, Q1 2025"."""
        from django.utils.translation import gettext

        return gettext("%(period)s%(kind)s") % {"period": self.period_label, "kind": self.get_kind_display()}

    @property
    def period_label(self) -> str:
        from ..periods import period_for

        return period_for(self.kind, self.year, self.quarter).label

    @property
    def period(self):
        from ..periods import period_for

        return period_for(self.kind, self.year, self.quarter)

    @property
    def is_frozen(self) -> bool:
        return self.status == CycleStatus.FINALISED

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def save(self, *args, **kwargs):
        if self.root_id and not self.region_code:
            self.region_code = self.root.code
        super().save(*args, **kwargs)

    @classmethod
    def jurisdiction_q(cls, user) -> Q:
        """Cycles run at, under or above the user's region. A spot-check stays hidden from
        users at township level and below until its check date (四不两直)."""
        prefix = scope_prefix(user)
        if prefix is None:
            return Q()
        if not prefix:
            return NOTHING
        q = _overlapping_codes(prefix)
        if _hides_spot_checks(user, prefix):
            q &= _spot_check_visible()
        return q


class SampledUnit(models.Model):
    """A township drawn for a quarterly spot-check."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="sample")
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("抽查单位")
        verbose_name_plural = _("抽查单位")
        constraints = [models.UniqueConstraint(fields=["cycle", "region"], name="sample_once_per_cycle")]

    def __str__(self) -> str:
        return f"{self.cycle_id}:{self.region_id}"


class UnitResult(ResultScoped):
    """A unit's score in a cycle."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="results")
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent_code = models.CharField(max_length=15, blank=True)
    profile = models.CharField(_("权重方案"), max_length=20)
    total_exact = models.TextField(help_text="exact rational total, 'numerator/denominator'")
    total = models.DecimalField(_("得分"), max_digits=7, decimal_places=2)
    dimensions = models.JSONField(_("分维度得分"), default=dict)
    rank = models.PositiveIntegerField(_("名次"), null=True, blank=True)
    peers = models.PositiveIntegerField(_("同级单位数"), default=0)
    vetoes = models.JSONField(_("否决事项"), default=list)
    flags = models.JSONField(_("提示"), default=list)
    blocking = models.JSONField(_("阻止定稿的事项"), default=list)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("单位得分")
        verbose_name_plural = _("单位得分")
        ordering = ["cycle", "level", "parent_code", "rank", "region_code"]
        constraints = [models.UniqueConstraint(fields=["cycle", "region"], name="result_once_per_unit")]
        indexes = [models.Index(fields=["cycle", "level", "parent_code"], name="result_peer_idx")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.total}"


class IndicatorResult(ResultScoped):
    """One indicator line of a unit's score: value, ratio, weight, points, source, note."""

    unit = models.ForeignKey(UnitResult, on_delete=models.CASCADE, related_name="lines")
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="+")
    region_code = RegionCodeField(max_length=15, db_index=True)
    indicator = models.CharField(_("指标"), max_length=8)
    status = models.CharField(_("计分情况"), max_length=10, choices=LineStatus.choices)
    numerator = models.DecimalField(_("分子"), null=True, blank=True, **SCORE_DIGITS)
    denominator = models.DecimalField(_("分母"), null=True, blank=True, **SCORE_DIGITS)
    value = models.DecimalField(_("指标值"), null=True, blank=True, **SCORE_DIGITS)
    ratio = models.DecimalField(_("得分率"), null=True, blank=True, **SCORE_DIGITS)
    weight = models.DecimalField(_("权重"), max_digits=8, decimal_places=4)
    effective_weight = models.DecimalField(_("调整后权重"), **SCORE_DIGITS)
    points = models.DecimalField(_("得分"), **SCORE_DIGITS)
    tolerance = models.DecimalField(_("容错恢复分"), default=0, **SCORE_DIGITS)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("指标得分")
        verbose_name_plural = _("指标得分")
        ordering = ["unit", "indicator"]
        constraints = [models.UniqueConstraint(fields=["unit", "indicator"], name="line_once_per_indicator")]

    @property
    def lost(self):
        return self.effective_weight - self.points


class AnnualResult(ResultScoped):
    """A unit's annual result (SPEC §5.3), computed with the year-end cycle."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="annual_results")
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    region_code = RegionCodeField(max_length=15, db_index=True)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent_code = models.CharField(max_length=15, blank=True)
    spot_check_mean = models.DecimalField(_("抽查平均分"), null=True, blank=True, **SCORE_DIGITS)
    spot_checks = models.PositiveSmallIntegerField(_("抽查次数"), default=0)
    half_year = models.DecimalField(_("半年评估得分"), null=True, blank=True, **SCORE_DIGITS)
    year_end = models.DecimalField(_("年终考核得分"), **SCORE_DIGITS)
    bonus = models.DecimalField(_("创新加分"), max_digits=4, decimal_places=2, default=0)
    result_exact = models.TextField()
    result = models.DecimalField(_("年度结果"), max_digits=7, decimal_places=2)
    grade = models.CharField(_("等次"), max_length=10, choices=Grade.choices)
    rank = models.PositiveIntegerField(_("名次"))
    peers = models.PositiveIntegerField(_("同级单位数"))
    vetoes = models.JSONField(_("否决事项"), default=list)
    fiscal_tilt = models.DecimalField(_("建议转移支付倾斜（%）"), max_digits=6, decimal_places=2, null=True, blank=True)
    notes = models.JSONField(default=list)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("年度考核结果")
        verbose_name_plural = _("年度考核结果")
        ordering = ["cycle", "level", "parent_code", "rank"]
        constraints = [models.UniqueConstraint(fields=["cycle", "region"], name="annual_once_per_unit")]
