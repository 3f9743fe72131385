"""Monthly activity counts (月度运行统计) kept for the dashboard.

A province holds millions of events: counting them per child and month on every dashboard
request would take seconds. `MonthlyActivity` keeps, per region (every level, its whole subtree)
and month, how many events were reported and how many of those went overdue, how many cases were
registered (and went overdue), and how many were concluded (and agreed). The dashboard reads a
region's children and months from here with one indexed query; `services.refresh_activity`
recomputes the table set-based (the beat runs it hourly, `seed_demo` after the demo).

Derived data, like a grid's count of full-time workers: the records it counts are audited, the
counts themselves are not.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.codes import RegionCodeField
from governance.scoping import ScopedModel


class ActivityKind(models.TextChoices):
    EVENTS = "events", _("上报事件")  # flagged: went overdue
    CASES = "cases", _("登记案件")  # flagged: went overdue
    CONCLUDED = "concluded", _("调解终结案件")  # flagged: ended in agreement


class MonthlyActivity(ScopedModel):
    """One region's count of one kind of record in one month (its whole subtree)."""

    region_code = RegionCodeField(_("区划代码"), max_length=15)
    parent_code = models.CharField(max_length=15, blank=True)
    month = models.DateField(_("月份"))
    kind = models.CharField(_("类别"), max_length=10, choices=ActivityKind.choices)
    count = models.PositiveIntegerField(_("数量"), default=0)
    flagged = models.PositiveIntegerField(_("其中超期或达成协议"), default=0)
    refreshed_at = models.DateTimeField(_("统计时间"))

    scope_path = "region_code"

    class Meta:
        verbose_name = _("月度运行统计")
        verbose_name_plural = _("月度运行统计")
        constraints = [
            models.UniqueConstraint(fields=["region_code", "month", "kind"], name="activity_once_per_month"),
        ]
        indexes = [models.Index(fields=["parent_code", "month"], name="activity_children_idx")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.month:%Y-%m} {self.kind} {self.count}"
