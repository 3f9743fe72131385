"""The assessment's printable documents (SPEC §5.4), set in the platform's embedded CJK font:

- 整改通知书 (rectification notice) of a unit in a published cycle: its problem items, the
  answer deadline, issued with the publication;
- 绩效诊断报告 (diagnostic report) of a unit in a cycle: score by dimension against its peers
  (a chart), the indicators that lost the most points with their numerator and denominator,
  the data-credibility flags, the open rectification items and the suggested actions.

Both are built from what `diagnosis` / `notice_items` read (a fixed number of queries per
document), never from a second computation of a score.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_
from xml.sax.saxutils import escape

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from governance.pdf_fonts import cjk_font, paragraph_styles
from grids.models import Region

from .choices import DIMENSION_POINTS, Dimension, RectificationStatus
from .models import AnnualResult, Cycle, Indicator, IndicatorResult, RectificationItem, UnitResult
from .selectors import cycle_flags
from .selectors.results import fmt2, fmt_count, fmt_percent, fmt_value, indicators_of

MOST_LOST_SHOWN = 5
UNIT_COLOUR = colors.HexColor("#1f5fa8")
PEER_COLOUR = colors.HexColor("#b0b7c3")


def _styles() -> dict[str, ParagraphStyle]:
    return paragraph_styles(10.5)


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _table(rows: list[list], widths: list[float], s) -> Table:
    table = Table([[_p(c, s["cell"]) for c in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ]
        )
    )
    return table


def _build(story, *, title: str, author: str, footer: str) -> bytes:
    buffer = io.BytesIO()

    def page(canvas, doc):
        canvas.saveState()
        canvas.setFont(cjk_font(), 8.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(20 * mm, 12 * mm, footer)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, _("第%(n)s页") % {"n": doc.page})
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=20 * mm,
        title=title, author=author,
    )  # fmt: skip
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()


def _issuer(cycle: Cycle) -> str:
    return _("%(region)s政法委（综治考核委员会）") % {"region": cycle.root.name}


def _day(value) -> str:
    return f"{value:%Y年%m月%d日}" if value else "—"


# --- Rectification notice ------------------------------------------------------------------------------


def notice_items(cycle: Cycle, unit_code: str) -> list[RectificationItem]:
    return list(RectificationItem.objects.filter(cycle=cycle, region_code=unit_code).order_by("indicator"))


def notice_pdf(cycle: Cycle, unit: Region, items: list[RectificationItem]) -> bytes:
    """整改通知书: issued with the publication, listing the unit's problem items and the deadline."""
    s = _styles()
    names = indicators_of(cycle)
    issued = timezone.localdate(cycle.published_at)
    due = max(i.due_on for i in items)
    story = [
        _p(_("整改通知书"), s["title"]),
        _p(
            _("%(year)s〔%(cycle)s〕整改第%(unit)s号") % {"year": cycle.year, "cycle": cycle.pk, "unit": unit.code},
            s["number"],
        ),
        _p(_("%(unit)s：") % {"unit": unit.name}, s["body"]),
        _p(
            _(
                "根据%(cycle)s结果（%(day)s公布），你单位以下%(n)s项指标得分率低于60%%，列入问题清单。"
                "请对照问题逐项制定整改措施，于%(due)s前通过平台报送整改报告和佐证材料，"
                "逾期未报送的将纳入督办。整改完成情况计入“问题整改完成率”（C13）。"
            )
            % {"cycle": cycle.title, "day": _day(issued), "n": len(items), "due": _day(due)},
            s["indent"],
        ),
        Spacer(1, 2 * mm),
    ]
    rows = [[_("指标"), _("名称"), _("得分率"), _("回头看"), _("整改期限"), _("状态")]]
    for item in items:
        rows.append(
            [
                item.indicator,
                (names.get(item.indicator) or {}).get("name_zh", ""),
                fmt_percent(item.ratio),
                _("是（再次未达标）") if item.recurring else "—",
                _day(item.due_on),
                item.get_status_display(),
            ]
        )
    story.append(_table(rows, [14 * mm, 52 * mm, 20 * mm, 28 * mm, 28 * mm, 28 * mm], s))
    story += [
        Spacer(1, 4 * mm),
        _p(_("标注“回头看”的事项在上一考核周期已列入整改，本周期再次未达标，请重点整改。"), s["body"]),
        Spacer(1, 10 * mm),
        _p(_issuer(cycle), s["right"]),
        _p(_day(issued), s["right"]),
    ]
    return _build(
        story, title=_("整改通知书") + f" {unit.name}", author=_issuer(cycle), footer=f"{cycle.title} · {unit.name}"
    )


# --- Diagnostic report ---------------------------------------------------------------------------------


@dataclass
class Diagnosis:
    """What a diagnostic report shows, read in a fixed number of queries."""

    cycle: Cycle
    unit: UnitResult
    annual: AnnualResult | None
    peer_means: dict[str, Decimal]
    most_lost: list[IndicatorResult]
    flags: list
    open_items: list[RectificationItem]
    advice: dict[str, str]


def diagnosis(cycle: Cycle, unit: UnitResult) -> Diagnosis:
    return diagnoses(cycle, [unit])[0]


def _lost(line: IndicatorResult) -> Decimal:
    return line.effective_weight - line.points - line.tolerance


def diagnoses(cycle: Cycle, units: list[UnitResult]) -> list[Diagnosis]:
    """The reports' contents for many units at once: one query per kind of content, whatever
    the number of units (the ZIP of a province's reports reads the same seven queries)."""
    codes = [u.region_code for u in units]
    peer_keys = {(u.level, u.parent_code) for u in units}
    subtotals: dict[tuple, list[dict]] = defaultdict(list)
    peer_q = reduce(or_, [Q(level=level, parent_code=parent) for level, parent in peer_keys], Q(pk__in=[]))
    for level, parent, dims in UnitResult.objects.filter(peer_q, cycle=cycle).values_list(
        "level", "parent_code", "dimensions"
    ):
        subtotals[(level, parent)].append(dims)
    lines: dict[int, list[IndicatorResult]] = defaultdict(list)
    for ln in IndicatorResult.objects.filter(unit__in=[u.pk for u in units]).exclude(effective_weight=0):
        if _lost(ln) > 0:
            lines[ln.unit_id].append(ln)
    items: dict[str, list[RectificationItem]] = defaultdict(list)
    for item in (
        RectificationItem.objects.filter(region_code__in=codes)
        .exclude(status=RectificationStatus.CLOSED)
        .select_related("cycle", "cycle__root")
        .order_by("due_on", "indicator")
    ):
        items[item.region_code].append(item)
    flags: dict[str, list] = defaultdict(list)
    for flag in cycle_flags(cycle=cycle, unit_codes=codes):
        flags[flag.region_code].append(flag)
    annual = {a.region_code: a for a in AnnualResult.objects.filter(cycle=cycle, region_code__in=codes)}
    advice = dict(Indicator.objects.values_list("code", "advice"))
    out = []
    for unit in units:
        rows = subtotals[(unit.level, unit.parent_code)]
        means = {}
        for code in DIMENSION_POINTS:
            shown = [Decimal(d[code]) for d in rows if d.get(code) not in (None, "")]
            means[code] = sum(shown, Decimal(0)) / len(shown) if shown else Decimal(0)
        lost = sorted(lines[unit.pk], key=lambda ln: (-_lost(ln), ln.indicator))[:MOST_LOST_SHOWN]
        out.append(
            Diagnosis(
                cycle=cycle,
                unit=unit,
                annual=annual.get(unit.region_code),
                peer_means=means,
                most_lost=lost,
                flags=flags[unit.region_code],
                open_items=items[unit.region_code],
                advice=advice,
            )
        )
    return out


def _dimension_chart(d: Diagnosis) -> Drawing:
    """Bars per dimension: the unit's points against the mean of its peers."""
    codes = list(DIMENSION_POINTS)
    drawing = Drawing(170 * mm, 62 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, 118 * mm, 46 * mm
    chart.data = [
        [float(Decimal(d.unit.dimensions.get(c, "0"))) for c in codes],
        [float(d.peer_means[c]) for c in codes],
    ]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(DIMENSION_POINTS.values())
    chart.valueAxis.labels.fontName = cjk_font()
    chart.categoryAxis.categoryNames = [f"{c} {Dimension(c).label}" for c in codes]
    chart.categoryAxis.labels.fontName = cjk_font()
    chart.categoryAxis.labels.fontSize = 8
    chart.bars[0].fillColor, chart.bars[1].fillColor = UNIT_COLOUR, PEER_COLOUR
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 136 * mm, 50 * mm
    legend.fontName, legend.fontSize = cjk_font(), 8
    legend.colorNamePairs = [(UNIT_COLOUR, _("本单位")), (PEER_COLOUR, _("同级单位平均"))]
    drawing.add(legend)
    return drawing


def diagnostic_pdf(d: Diagnosis) -> bytes:
    s = _styles()
    cycle, unit = d.cycle, d.unit
    names = indicators_of(cycle)
    story = [
        _p(_("绩效诊断报告"), s["title"]),
        _p(f"{unit.region.name}（{unit.region_code}） · {cycle.title}", s["number"]),
        _p(_("一、总体情况"), s["h2"]),
    ]
    summary = _("总分%(total)s分，在%(peers)s个同级单位中排第%(rank)s名。") % {
        "total": fmt2(unit.total),
        "peers": unit.peers,
        "rank": unit.rank,
    }
    if d.annual:
        summary += _("年度结果%(result)s分，等次：%(grade)s。") % {
            "result": fmt2(d.annual.result),
            "grade": d.annual.get_grade_display(),
        }
    if not cycle.published_at:
        summary += _("（结果尚未公布，仅供内部研判。）")
    story += [_p(summary, s["indent"]), _p(_("二、分维度得分与同级比较"), s["h2"]), _dimension_chart(d)]
    rows = [[_("维度"), _("满分"), _("本单位"), _("同级平均")]]
    for code, full in DIMENSION_POINTS.items():
        rows.append(
            [f"{code} {Dimension(code).label}", str(full), unit.dimensions.get(code, "—"), fmt2(d.peer_means[code])]
        )
    story.append(_table(rows, [60 * mm, 30 * mm, 40 * mm, 40 * mm], s))

    story.append(_p(_("三、失分最多的指标"), s["h2"]))
    if d.most_lost:
        rows = [[_("指标"), _("名称"), _("分子"), _("分母"), _("指标值"), _("得分率"), _("失分"), _("说明")]]
        for ln in d.most_lost:
            meta = names.get(ln.indicator) or {}
            rows.append(
                [
                    ln.indicator,
                    meta.get("name_zh", ""),
                    fmt_count(ln.numerator) or "—",
                    fmt_count(ln.denominator) or "—",
                    fmt_value(meta, ln.value) or "—",
                    fmt_percent(ln.ratio) or "—",
                    fmt2(_lost(ln)),
                    ln.note,
                ]
            )
        story.append(_table(rows, [12 * mm, 34 * mm, 16 * mm, 16 * mm, 20 * mm, 18 * mm, 16 * mm, 38 * mm], s))
    else:
        story.append(_p(_("各项指标均未失分。"), s["body"]))

    story.append(_p(_("四、数据可信度预警"), s["h2"]))
    if d.flags:
        rows = [[_("预警"), _("期间"), _("数据"), _("涉及记录")]]
        for f in d.flags:
            rows.append(
                [f.get_rule_display(), f"{f.first:%Y-%m-%d}—{f.last:%Y-%m-%d}", flag_summary(f), str(len(f.record_ids))]
            )
        story.append(_table(rows, [40 * mm, 40 * mm, 70 * mm, 20 * mm], s))
        story.append(_p(_("预警仅提示数据异常，供核查，不直接影响得分。"), s["body"]))
    else:
        story.append(_p(_("本期未发现数据可信度预警。"), s["body"]))

    story.append(_p(_("五、未销号整改事项"), s["h2"]))
    if d.open_items:
        rows = [[_("指标"), _("名称"), _("考核周期"), _("整改期限"), _("状态"), _("回头看")]]
        for item in d.open_items:
            rows.append(
                [
                    item.indicator,
                    (names.get(item.indicator) or {}).get("name_zh", ""),
                    item.cycle.title,
                    _day(item.due_on),
                    item.get_status_display(),
                    _("回头看") if item.recurring else "—",
                ]
            )
        story.append(_table(rows, [14 * mm, 40 * mm, 46 * mm, 28 * mm, 22 * mm, 20 * mm], s))
    else:
        story.append(_p(_("没有未销号的整改事项。"), s["body"]))

    story.append(_p(_("六、建议措施"), s["h2"]))
    advised = list(dict.fromkeys([ln.indicator for ln in d.most_lost] + [i.indicator for i in d.open_items]))
    if advised:
        for code in advised:
            name = (names.get(code) or {}).get("name_zh", "")
            story.append(_p(f"{code} {name}：{d.advice.get(code) or _('请结合失分原因制定整改措施。')}", s["indent"]))
    else:
        story.append(_p(_("保持现有工作水平，巩固提升。"), s["body"]))
    story += [
        Spacer(1, 8 * mm),
        _p(_("生成时间：%(at)s") % {"at": f"{timezone.localtime():%Y-%m-%d %H:%M}"}, s["right"]),
    ]
    return _build(
        story,
        title=_("绩效诊断报告") + f" {unit.region.name}",
        author=_issuer(cycle),
        footer=f"{cycle.title} · {unit.region.name}",
    )


def flag_summary(flag) -> str:
    """One line of a flag's figures, as the report and the pages show it."""
    f = flag.figures
    if flag.rule == "mediation_spike":
        return _("本月%(n)s件（无调解记录%(bare)s件），前6个月平均%(mean)s件") % {
            "n": f.get("cases"), "bare": f.get("without_sessions"), "mean": f.get("mean"),
        }  # fmt: skip
    if flag.rule == "instant_closure":
        return _("办结%(n)s件，其中10分钟内办结%(k)s件（%(share)s）") % {
            "n": f.get("resolved"), "k": f.get("instant"), "share": fmt_percent(f.get("share")),
        }  # fmt: skip
    if flag.rule == "under_reporting":
        return _("每千人事件数%(rate)s，同级中位数%(median)s") % {
            "rate": f.get("per_1000"), "median": f.get("peer_median"),
        }  # fmt: skip
    return _("上报%(n)s件，疑似重复%(k)s件（%(share)s）") % {
        "n": f.get("reported"), "k": f.get("duplicates"), "share": fmt_percent(f.get("share")),
    }  # fmt: skip
