"""Excel exports of assessment results (SPEC §6): the ranking of a level under a parent, with
the annual result of a year-end cycle and the failing units, and one unit's breakdown with
its dimension subtotals and department accountability.

Rows come from `assessment.selectors.results`, so an export holds exactly what the page shows the
user (restricted to their jurisdiction), rounded to 2 decimals; every export is audited.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from governance import audit
from governance.choices import AuditAction

from .choices import DIMENSION_POINTS, CycleKind, Dimension
from .models import Cycle, UnitResult
from .selectors.results import RankingRow, RankingScope, percent, round2

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    """Text cells never start a formula (spreadsheet formula injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _number(value) -> Decimal | None:
    return round2(value)


def sheet_with_headers(workbook, title: str, headers: list[str], widths: list[int]):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title[:31])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    row = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        row.append(cell)
    sheet.append(row)
    return sheet


def workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


# --- Ranking ---------------------------------------------------------------------------------------------


def ranking_headers(annual: bool) -> list[str]:
    headers = [
        _("序号"),
        _("单位"),
        _("区划代码"),
        _("权重方案"),
        _("总分"),
        *[f"{d} {Dimension(d).label}" for d in DIMENSION_POINTS],
        _("同级名次"),
        _("同级单位数"),
        _("不适用项"),
        _("否决事项"),
    ]
    if annual:
        headers += [
            _("抽查平均分"),
            _("抽查次数"),
            _("半年评估得分"),
            _("年终考核得分"),
            _("创新加分"),
            _("年度结果"),
            _("等次"),
            _("年度名次"),
            _("建议转移支付倾斜（%）"),
        ]
    return headers


def ranking_row(row: RankingRow, annual: bool) -> list:
    unit = row.unit
    values = [
        row.position,
        safe_text(unit.region.name),
        unit.region_code,
        unit.profile,
        _number(unit.total),
        *[_number(unit.dimensions.get(d)) for d in DIMENSION_POINTS],
        unit.rank,
        unit.peers,
        row.flags,
        "、".join(row.vetoes),
    ]
    if annual:
        a = row.annual
        values += (
            [
                _number(a.spot_check_mean),
                a.spot_checks,
                _number(a.half_year),
                _number(a.year_end),
                _number(a.bonus),
                _number(a.result),
                str(a.get_grade_display()),
                a.rank,
                _number(a.fiscal_tilt),
            ]
            if a is not None
            else [None] * 9
        )
    return values


def ranking_workbook(cycle: Cycle, scope: RankingScope, rows: list[RankingRow], failing: list) -> bytes:
    from openpyxl import Workbook

    annual = cycle.kind == CycleKind.YEAR_END
    workbook = Workbook(write_only=True)
    headers = ranking_headers(annual)
    sheet = sheet_with_headers(workbook, _("排名"), headers, [6, 22, 14, 10, 9, 12, 12, 12, 12, 9, 9, 9, 14] + [12] * 9)
    for row in rows:
        sheet.append(ranking_row(row, annual))
    if annual:
        sheet = sheet_with_headers(
            workbook,
            _("不合格单位"),
            [_("单位"), _("区划代码"), _("年度结果"), _("否决事项"), _("说明")],
            [22, 14, 10, 16, 40],
        )
        for a in failing:
            sheet.append(
                [
                    safe_text(a.region.name),
                    a.region_code,
                    _number(a.result),
                    "、".join(a.vetoes or []),
                    safe_text("；".join(a.notes or [])),
                ]
            )
    return workbook_bytes(workbook)


def _audit_region(user, cycle: Cycle) -> str:
    """The entry is scoped where the exported rows are: the user's region inside the cycle's
    root, else the root (a province user exporting a county's cycle)."""
    region = getattr(user, "region", None)
    if region is not None and region.code.startswith(cycle.region_code):
        return region.code
    return cycle.region_code


def export_ranking(user, cycle: Cycle, scope: RankingScope, rows: list[RankingRow], failing: list) -> HttpResponse:
    content = ranking_workbook(cycle, scope, rows, failing)
    audit.record(
        AuditAction.EXPORT,
        instance=cycle,
        region_code=_audit_region(user, cycle),
        changes={"document": "ranking", "format": "xlsx", "level": scope.level, "parent": scope.parent.code},
    )
    name = f"{_('考核排名')}-{cycle.title}-{scope.parent.name}-{scope.level_label}-{timezone.localdate():%Y%m%d}.xlsx"
    return xlsx_response(content, name)


# --- A unit's breakdown ----------------------------------------------------------------------------------


def line_headers() -> list[str]:
    return [
        _("指标编号"),
        _("指标名称"),
        _("维度"),
        _("数据来源"),
        _("指标值"),
        _("分子"),
        _("分母"),
        _("得分率（%）"),
        _("权重"),
        _("调整后权重"),
        _("得分"),
        _("失分"),
        _("容错恢复分"),
        _("计分情况"),
        _("说明"),
    ]


def unit_workbook(cycle: Cycle, unit: UnitResult, rows, dimensions: list[dict], departments) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = sheet_with_headers(
        workbook, _("指标得分"), line_headers(), [9, 26, 6, 12, 12, 10, 10, 12, 8, 11, 9, 9, 11, 14, 36]
    )
    for r in rows:
        line = r.line
        sheet.append(
            [
                r.code,
                safe_text(r.name),
                r.dimension,
                r.source_label,
                safe_text(r.value),
                round2(line.numerator),
                round2(line.denominator),
                percent(line.ratio),
                round2(line.weight),
                round2(line.effective_weight),
                round2(line.points),
                round2(line.lost),
                round2(line.tolerance),
                str(line.get_status_display()),
                safe_text(line.note),
            ]
        )
    sheet = sheet_with_headers(
        workbook, _("分维度得分"), [_("维度"), _("满分"), _("调整后权重"), _("得分"), _("失分")], [16, 8, 12, 10, 10]
    )
    for d in dimensions:
        sheet.append(
            [f"{d['code']} {d['label']}", d["full"], Decimal(d["effective"]), Decimal(d["points"]), Decimal(d["lost"])]
        )
    sheet.append([_("合计"), 100, None, round2(unit.total), None])
    sheet = sheet_with_headers(workbook, _("部门责任"), [_("部门"), _("应承担失分")], [20, 14])
    for dept, lost in departments:
        sheet.append([safe_text(dept), Decimal(lost)])
    return workbook_bytes(workbook)


def export_unit(user, cycle: Cycle, unit: UnitResult, rows, dimensions, departments) -> HttpResponse:
    content = unit_workbook(cycle, unit, rows, dimensions, departments)
    audit.record(
        AuditAction.EXPORT,
        instance=cycle,
        region_code=_audit_region(user, cycle),
        changes={"document": "unit_breakdown", "format": "xlsx", "unit": unit.region_code},
    )
    name = f"{_('考核得分明细')}-{cycle.title}-{unit.region.name}-{timezone.localdate():%Y%m%d}.xlsx"
    return xlsx_response(content, name)
