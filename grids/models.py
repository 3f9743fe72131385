"""The six-level hierarchy (区划) and the grid workers (网格员) staffing its grids."""

from __future__ import annotations

import math
from typing import Self

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Q, Value
from django.utils.translation import gettext_lazy as _

from governance.audit import AuditedModel
from governance.codes import LEVEL_BY_CODE_LENGTH, Level, RegionCodeField, ancestors
from governance.scoping import ScopedModel, ScopedQuerySet
from grids.choices import GridType, SizingFlag, Terrain

# Sizing rules of SPEC §2.
RURAL_HOUSEHOLDS = (80, 120)
URBAN_MAX_HOUSEHOLDS = 300
RESIDENTS_PER_FULLTIME_WORKER = 500
MAX_RADIUS_KM = {False: 2.0, True: 0.5}  # keyed by is_urban


def max_area_km2(is_urban: bool) -> float:
    """The largest area whose equivalent radius √(area/π) stays within the limit."""
    return math.pi * MAX_RADIUS_KM[is_urban] ** 2


class RegionQuerySet(ScopedQuerySet):
    def under(self, code: str) -> Self:
        """The region with this code and everything below it (one indexed comparison)."""
        return self.filter(code__under=code)

    def grids(self) -> Self:
        return self.filter(level=Level.GRID)

    def with_sizing_flags(self) -> Self:
        """Annotate one boolean per sizing rule (grids only; other levels are never flagged)."""
        conditions = sizing_conditions()
        return self.annotate(
            **{
                f"flag_{flag}": models.Case(
                    models.When(Q(level=Level.GRID) & condition, then=Value(True)),
                    default=Value(False),
                    output_field=models.BooleanField(),
                )
                for flag, condition in conditions.items()
            }
        )


def sizing_conditions() -> dict[str, Q]:
    """SQL conditions of the sizing rules: plain column comparisons, so counting flagged
    grids over a whole province is one scan. The radius rule compares the area with π·r² instead of taking a square root in SQL.
    """
    rural, urban = Q(is_urban=False), Q(is_urban=True)
    return {
        SizingFlag.HOUSEHOLDS: (rural & (Q(households__lt=RURAL_HOUSEHOLDS[0]) | Q(households__gt=RURAL_HOUSEHOLDS[1])))
        | (urban & Q(households__gt=URBAN_MAX_HOUSEHOLDS)),
        SizingFlag.NO_FULLTIME_WORKER: Q(fulltime_workers=0),
        SizingFlag.WORKER_LOAD: Q(fulltime_workers__gt=0)
        & Q(
            population__gt=ExpressionWrapper(
                F("fulltime_workers") * RESIDENTS_PER_FULLTIME_WORKER, output_field=models.IntegerField()
            )
        ),
        SizingFlag.RADIUS: Q(area_km2__isnull=False)
        & ((rural & Q(area_km2__gt=max_area_km2(False))) | (urban & Q(area_km2__gt=max_area_km2(True)))),
    }


class Region(ScopedModel, AuditedModel):
    """区划: a node of the province → city → county → township → village → grid hierarchy.

    The statistical division code is the materialised path: a child's code starts with
    its parent's, so a subtree is a prefix match on the indexed `code` column.
    """

    code = RegionCodeField(_("区划代码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级区划")
    )
    terrain = models.CharField(_("地形类别"), max_length=10, choices=Terrain.choices, default=Terrain.PLAIN)
    is_urban = models.BooleanField(_("城镇"), default=False, help_text=_("城镇（社区）或农村"))
    population = models.PositiveIntegerField(_("常住人口"), default=0)
    households = models.PositiveIntegerField(_("户数"), default=0)
    area_km2 = models.FloatField(_("面积（平方公里）"), null=True, blank=True, validators=[MinValueValidator(0)])
    centroid_lat = models.FloatField(_("中心点纬度"), null=True, blank=True)
    centroid_lng = models.FloatField(_("中心点经度"), null=True, blank=True)
    boundary = models.JSONField(_("边界（GeoJSON）"), null=True, blank=True)
    # Grid-level attributes (blank for other levels).
    grid_type = models.CharField(_("网格类型"), max_length=20, choices=GridType.choices, blank=True)
    parttime_workers = models.PositiveSmallIntegerField(_("兼职网格员数"), default=0)
    fulltime_workers = models.PositiveSmallIntegerField(
        _("在岗专职网格员数"),
        default=0,
        editable=False,
        help_text=_("由网格员记录自动统计（每次变动及每日零点重算）。"),
    )
    building_heads = models.PositiveSmallIntegerField(_("楼栋长数"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = RegionQuerySet.as_manager()
    scope_path = "code"
    # fulltime_workers is derived from GridWorker rows, whose own changes are audited.
    audit_exclude = ("updated_at", "fulltime_workers")

    class Meta:
        verbose_name = _("区划")
        verbose_name_plural = _("区划")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=6), name="region_level_range"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        super().clean()
        errors = validate_region_shape(self.code, self.level, self.parent)
        if self.level != Level.GRID and self.grid_type:
            errors.setdefault("grid_type", []).append(_("只有网格才有网格类型。"))
        if errors:
            raise ValidationError(errors)

    @property
    def is_grid(self) -> bool:
        return self.level == Level.GRID

    def ancestors_codes(self) -> list[str]:
        """Codes of the ancestors, top first, derived from the code itself (no query)."""
        return ancestors(self.code)

    def sizing_flags(self) -> list[str]:
        """The sizing rules this grid breaks, evaluated in Python (mirrors `sizing_conditions`)."""
        fulltime_workers = self.fulltime_workers
        if not self.is_grid:
            return []
        flags = []
        if self.is_urban:
            if self.households > URBAN_MAX_HOUSEHOLDS:
                flags.append(SizingFlag.HOUSEHOLDS)
        elif not RURAL_HOUSEHOLDS[0] <= self.households <= RURAL_HOUSEHOLDS[1]:
            flags.append(SizingFlag.HOUSEHOLDS)
        if fulltime_workers == 0:
            flags.append(SizingFlag.NO_FULLTIME_WORKER)
        elif self.population > fulltime_workers * RESIDENTS_PER_FULLTIME_WORKER:
            flags.append(SizingFlag.WORKER_LOAD)
        if self.area_km2 is not None and self.area_km2 > max_area_km2(self.is_urban):
            flags.append(SizingFlag.RADIUS)
        return flags

    @property
    def service_radius_km(self) -> float | None:
        return None if self.area_km2 is None else math.sqrt(self.area_km2 / math.pi)


def validate_region_shape(code: str, level: int | None, parent: Region | None) -> dict[str, list]:
    """The code rules of SPEC §2, as field errors (empty when the shape is right)."""
    errors: dict[str, list] = {}
    if not code or not code.isdigit():
        errors["code"] = [_("区划代码只能由数字组成。")]
        return errors
    expected_level = LEVEL_BY_CODE_LENGTH.get(len(code))
    if expected_level is None:
        errors["code"] = [_("区划代码长度应为2、4、6、9、12或15位。")]
        return errors
    if level is not None and level != expected_level:
        errors["level"] = [
            _("区划代码位数与层级不符：%(n)s位代码对应“%(level)s”。")
            % {"n": len(code), "level": Level(expected_level).label}
        ]
    if expected_level == Level.PROVINCE:
        if parent is not None:
            errors["parent"] = [_("省级区划没有上级。")]
    elif parent is None:
        errors["parent"] = [_("请指定上级区划。")]
    elif parent.level != expected_level - 1 or not code.startswith(parent.code):
        errors["parent"] = [_("上级区划应为上一层级且区划代码是本代码的前缀。")]
    return errors


class GridWorker(ScopedModel, AuditedModel):
    """网格员: a person serving a grid, full- or part-time, over a span of dates."""

    grid = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="grid_workers",
        verbose_name=_("网格"),
        limit_choices_to={"level": Level.GRID},
    )
    user = models.OneToOneField(
        "governance.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grid_worker",
        verbose_name=_("平台账号"),
    )
    name = models.CharField(_("姓名"), max_length=50)
    is_full_time = models.BooleanField(_("专职"), default=True)
    started_on = models.DateField(_("到岗日期"))
    ended_on = models.DateField(_("离岗日期"), null=True, blank=True)

    scope_path = "grid__code"

    class Meta:
        verbose_name = _("网格员")
        verbose_name_plural = _("网格员")
        ordering = ["grid__code", "name"]
        indexes = [models.Index(fields=["grid", "is_full_time", "started_on"], name="gridworker_active_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")), name="gridworker_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.grid_id and self.grid.level != Level.GRID:
            raise ValidationError({"grid": _("网格员只能配备到网格。")})
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": _("离岗日期不能早于到岗日期。")})
