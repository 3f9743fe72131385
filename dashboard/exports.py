"""Excel export of a dashboard: the map's data (one row per child), the trend, the radar and the
monthly volumes, exactly as the JSON endpoint gives them. Every export is audited."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit
from governance.choices import AuditAction
from governance.files import xlsx_response
from governance.xlsx import Sheet, safe_text, workbook_bytes

from .selectors import Dashboard


def export_dashboard(user, board: Dashboard):
    data = board.data
    cycle = data["cycle"]
    children = Sheet(
        _("地图数据"),
        [
            _("区划代码"),
            _("单位"),
            _("常住人口"),
            _("得分"),
            _("同级名次"),
            _("同级单位数"),
            *[f"{d}" for d in ("A", "B", "C", "D")],
            _("年度结果"),
            _("等次"),
            _("建议转移支付倾斜（%）"),
            _("无结果原因"),
            _("事件数"),
            _("超期事件数"),
            _("每千人事件数"),
            _("事件超期率（%）"),
            _("调解终结案件数"),
            _("调解成功率（%）"),
        ],
        [_child_row(child) for child in data["children"]],
        [14, 20, 10, 8, 8, 8, 7, 7, 7, 7, 9, 8, 12, 22, 8, 10, 12, 12, 12, 12],
    )
    trend = data["trend"]
    radar = data["radar"]
    volumes = data["volumes"]
    sheets = [
        children,
        Sheet(
            _("趋势"),
            [_("考核周期"), *[s["name"] for s in trend["series"]]],
            [[label, *[s["data"][i] for s in trend["series"]]] for i, label in enumerate(trend["labels"])],
            [28, 16, 16, 16],
        ),
        Sheet(
            _("维度雷达（%）"),
            [_("维度"), *[s["name"] for s in radar["series"]]],
            [[d["name"], *[s["data"][i] for s in radar["series"]]] for i, d in enumerate(radar["indicators"])],
            [20, 16, 16],
        ),
        Sheet(
            _("月度事件与案件"),
            [_("月份"), _("事件数"), _("超期事件"), _("案件数"), _("超期案件")],
            [
                [
                    month,
                    volumes["events"][i],
                    volumes["events_overdue"][i],
                    volumes["cases"][i],
                    volumes["cases_overdue"][i],
                ]
                for i, month in enumerate(volumes["months"])
            ],
            [10, 10, 10, 10, 10],
        ),
    ]
    audit.record(
        AuditAction.EXPORT,
        model_label="dashboard",
        object_repr=_("综治看板导出：%(region)s") % {"region": board.region.name},
        region_code=board.region.code,
        changes={"cycle": cycle["id"] if cycle else None, "rows": len(data["children"])},
    )
    stamp = timezone.localdate().isoformat()
    return xlsx_response(workbook_bytes(sheets), f"dashboard-{board.region.code}-{stamp}.xlsx")


def _child_row(child: dict) -> list:
    m = child["measures"]
    return [
        child["code"],
        safe_text(child["name"]),
        child["population"],
        child["score"],
        child["rank"],
        child["peers"],
        *[child["dimensions"].get(d) for d in ("A", "B", "C", "D")],
        child["annual"],
        child["grade_label"],
        child["fiscal_tilt"],
        child["no_result"],
        m["events"],
        m["events_overdue"],
        m["events_per_1000"],
        m["overdue_share"],
        m["cases_concluded"],
        m["mediation_success"],
    ]
