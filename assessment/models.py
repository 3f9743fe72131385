"""The assessment's records (SPEC §5): the catalogue and its weight profiles, the inputs
that are not platform records (monthly core tables, surveys, assessor scores, veto
rulings, innovation awards, tolerance claims, rectification items), and the cycles with
their stored results.

Results are computed by `assessment.engine` and replaced as a whole on each run of an
unfinalised cycle; a finalised cycle is frozen together with the catalogue version it ran with.
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
from governance.choices import Role
from governance.codes import RegionCodeField
from governance.scoping import NOTHING, ScopedModel, scope_prefix
from grids.choices import Level

from .choices import (
    AppealStatus,
    AwarenessAnswer,
    Category,
    ClaimStatus,
    CycleKind,
    CycleStatus,
    Dimension,
    FlagRule,
    Grade,
    JobStatus,
    LineStatus,
    Nature,
    RectificationStatus,
    Rule,
    RulingStatus,
    SafetyAnswer,
    SatisfactionAnswer,
    Source,
    SurveyChannel,
)

SCORE_DIGITS = {"max_digits": 24, "decimal_places": 8}


# --- Catalogue -----------------------------------------------------------------------------------------


class Indicator(AuditedModel):
    """One of the 40 indicators (SPEC §5.1, indicators.csv). Edits take effect at the next
    run of an unfinalised cycle; finalised cycles keep the version they ran with."""

    code = models.CharField(_("编号"), max_length=8, unique=True)
    name_zh = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    dimension = models.CharField(_("维度"), max_length=1, choices=Dimension.choices)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    nature = models.CharField(_("性质"), max_length=14, choices=Nature.choices)
    source = models.CharField(_("数据来源"), max_length=10, choices=Source.choices)
    rule = models.CharField(_("计分规则"), max_length=14, choices=Rule.choices)
    floor = models.DecimalField(_("下限 f"), max_digits=12, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(_("目标值 t"), max_digits=12, decimal_places=4, null=True, blank=True)
    ceiling = models.DecimalField(_("上限 c"), max_digits=12, decimal_places=4, null=True, blank=True)
    lead_department = models.CharField(_("牵头部门"), max_length=20, blank=True)
    collaborating_departments = models.CharField(
        _("配合部门"), max_length=100, blank=True, help_text=_("多个部门用逗号分隔。")
    )
    value_definition = models.TextField(_("计算口径"), blank=True)
    advice = models.TextField(_("整改建议"), blank=True, help_text=_("绩效诊断报告中对失分单位提出的建议措施。"))
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    @property
    def collaborators(self) -> list[str]:
        return [d.strip() for d in self.collaborating_departments.replace("，", ",").split(",") if d.strip()]

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        super().clean()
        errors = {}
        if self.rule == Rule.HIGHER_BETTER:
            if self.floor is None or self.target is None:
                errors["target"] = _("“越高越好”须填写下限和目标值。")
            elif self.target <= self.floor:
                errors["target"] = _("目标值必须大于下限。")
        if self.rule == Rule.LOWER_BETTER:
            if self.target is None or self.ceiling is None:
                errors["ceiling"] = _("“越低越好”须填写目标值和上限。")
            elif self.ceiling <= self.target:
                errors["ceiling"] = _("上限必须大于目标值。")
        if (self.dimension == Dimension.V) != (self.rule == Rule.VETO):
            errors["rule"] = _("一票否决指标只能属于否决维度，反之亦然。")
        if errors:
            raise ValidationError(errors)


class WeightProfile(AuditedModel):
    """A weight profile (权重方案): `plain` (平原/城区) and `mountain` (山区) ship."""

    code = models.SlugField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    terrains = models.JSONField(
        _("适用地形"), default=list, blank=True, help_text=_('地形类别代码列表，如 ["mountain"]。')
    )
    is_default = models.BooleanField(_("默认方案"), default=False)

    class Meta:
        verbose_name = _("权重方案")
        verbose_name_plural = _("权重方案")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class IndicatorWeight(AuditedModel):
    profile = models.ForeignKey(WeightProfile, on_delete=models.CASCADE, related_name="weights")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="weights")
    weight = models.DecimalField(_("权重（分）"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("指标权重")
        verbose_name_plural = _("指标权重")
        ordering = ["profile", "indicator__sort_order"]
        constraints = [models.UniqueConstraint(fields=["profile", "indicator"], name="weight_once_per_profile")]

    def __str__(self) -> str:
        return f"{self.profile.code}/{self.indicator_id}: {self.weight}"


class ProfileOverride(ScopedModel, AuditedModel):
    """A region whose profile does not follow its terrain class."""

    region = models.OneToOneField("grids.Region", on_delete=models.CASCADE, related_name="assessment_profile")
    profile = models.ForeignKey(WeightProfile, on_delete=models.PROTECT, verbose_name=_("权重方案"))
    reason = models.CharField(_("理由"), max_length=200)

    class Meta:
        verbose_name = _("权重方案指定")
        verbose_name_plural = _("权重方案指定")

    def __str__(self) -> str:
        return f"{self.region} → {self.profile}"


class CatalogueVersion(models.Model):
    """A frozen copy of the catalogue; identical content shares one version."""

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    digest = models.CharField(max_length=64, unique=True)
    data = models.JSONField()
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("指标体系版本")
        verbose_name_plural = _("指标体系版本")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"


# --- Cycles --------------------------------------------------------------------------------------------


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
        from .periods import period_for

        return period_for(self.kind, self.year, self.quarter).label

    @property
    def period(self):
        from .periods import period_for

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


# --- Inputs --------------------------------------------------------------------------------------------


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


def month_deadline(month: dt.date, due_day: int | None = None) -> dt.datetime:
    """The end of the `due_day`-th day of the month after `month` (Asia/Shanghai)."""
    from grids.sla import END_OF_DAY

    day = due_day or settings.ASSESSMENT_REPORT_DUE_DAY
    nxt = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return timezone.make_aware(dt.datetime.combine(nxt.replace(day=day), END_OF_DAY))
