"""Choices of the hierarchy: levels, terrain classes, grid types."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Terrain(models.TextChoices):
    MOUNTAIN = "mountain", _("山区")
    HILL = "hill", _("丘陵")
    PLAIN = "plain", _("平原")


class GridType(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("全科网格")
    SCHOOL = "school", _("专属网格（学校）")
    HOSPITAL = "hospital", _("专属网格（医院）")
    INDUSTRIAL_PARK = "industrial_park", _("专属网格（园区）")
    MARKET = "market", _("专属网格（市场）")


class SizingFlag(models.TextChoices):
    """Sizing-rule violations (flagged, never refused)."""

    HOUSEHOLDS = "households", _("户数超出标准")
    NO_FULLTIME_WORKER = "no_fulltime_worker", _("无专职网格员")
    WORKER_LOAD = "worker_load", _("专职网格员服务人口超标")
    RADIUS = "radius", _("服务半径超标")
