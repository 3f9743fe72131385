"""The catalogue (SPEC §5.1): the 40 indicators, the weight profiles and their weights, the regions
assessed with another profile than their terrain gives, and the frozen catalogue versions.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.audit import AuditedModel
from governance.scoping import ScopedModel

from ..choices import (
    Category,
    Dimension,
    Nature,
    Rule,
    Source,
)

SCORE_DIGITS = {"max_digits": 24, "decimal_places": 8}


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
