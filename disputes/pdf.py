"""Printable documents of a case: the 人民调解协议书 and the case file (案卷).

The Chinese text is set in the platform's embedded CJK font (`governance.pdf_fonts`), so the
documents render on any viewer. Parties' ID numbers and phones appear masked, as on the pages.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from governance.pdf_fonts import cjk_font, paragraph_styles

from .choices import PartyKind, PartySide
from .models import Agreement, Case, JudicialConfirmation


def _styles() -> dict[str, ParagraphStyle]:
    return paragraph_styles(11)


def _p(text, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _date(value) -> str:
    if value is None:
        return "—"
    if hasattr(value, "hour"):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return f"{value:%Y-%m-%d}"


def _table(rows: list[list], widths: list[float], styles, header: bool = True) -> Table:
    data = [[c if isinstance(c, Paragraph) else _p(c, styles["cell"]) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")))
    table.setStyle(TableStyle(commands))
    return table


def _party_identity(party) -> str:
    if party.kind == PartyKind.ORGANISATION:
        identity = _("统一社会信用代码：%(code)s") % {"code": party.credit_code or "—"}
        if party.legal_representative:
            identity += "，" + _legal_representative(party)
        return identity
    return _("公民身份号码：%(id)s") % {"id": party.id_number_masked or "—"}


def _legal_representative(party) -> str:
    return _("法定代表人或负责人：%(name)s") % {"name": party.legal_representative}


def _build(title: str, story: list, case: Case) -> bytes:
    buffer = io.BytesIO()
    font = cjk_font()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(20 * mm, 12 * mm, f"{case.number}  {case.organisation.name}")
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, _("第%(n)s页") % {"n": doc.page})
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"{title} {case.number}",
        author=case.organisation.name,
        subject=case.title,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def agreement_pdf(case: Case, agreement: Agreement) -> bytes:
    """人民调解协议书, laid out after the Ministry of Justice's model text."""
    s = _styles()
    story = [
        _p(_("人民调解协议书"), s["title"]),
        _p(_("编号：%(number)s") % {"number": case.number}, s["number"]),
    ]
    parties = list(case.parties.all())
    for side, label in ((PartySide.APPLICANT, _("申请人")), (PartySide.RESPONDENT, _("被申请人"))):
        for party in (p for p in parties if p.side == side):
            parts = [f"{label}：{party.name}", _party_identity(party)]
            if party.phone_masked:
                parts.append(_("联系电话：%(phone)s") % {"phone": party.phone_masked})
            if party.address:
                parts.append(_("住址：%(address)s") % {"address": party.address})
            story.append(_p("，".join(parts), s["body"]))
    story += [
        _p(_("纠纷主要事实、争议事项："), s["h2"]),
        _p(case.facts, s["indent"]),
        _p(_("经调解，双方当事人自愿达成如下协议："), s["h2"]),
        _p(agreement.terms, s["indent"]),
    ]
    if agreement.amount is not None:
        story.append(_p(_("涉及金额：人民币%(amount)s元。") % {"amount": f"{agreement.amount:,.2f}"}, s["body"]))
    if agreement.performance_deadline:
        story.append(_p(_("履行期限：%(day)s前履行完毕。") % {"day": _date(agreement.performance_deadline)}, s["body"]))
    story += [
        Spacer(1, 3 * mm),
        _p(
            _(
                "本协议自各方当事人签名（盖章）、人民调解员签名并加盖人民调解委员会印章之日起生效。"
                "本协议一式三份，双方当事人、人民调解委员会各持一份。"
                "当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。"
            ),
            s["indent"],
        ),
        Spacer(1, 12 * mm),
    ]
    signature = [
        [_("申请人（签名或盖章）："), _("被申请人（签名或盖章）：")],
        ["", ""],
        [
            _("人民调解员（签名）：%(name)s")
            % {"name": (case.mediator.display_name or case.mediator.username) if case.mediator else ""},
            _("调解组织（盖章）：%(org)s") % {"org": case.organisation.name},
        ],
        ["", _("签订日期：%(day)s") % {"day": _date(agreement.signed_on)}],
    ]
    table = Table([[_p(c, s["body"]) for c in row] for row in signature], colWidths=[85 * mm, 85 * mm], rowHeights=None)
    table.setStyle(TableStyle([("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    story.append(KeepTogether([table]))
    return _build(_("人民调解协议书"), story, case)


def case_file_pdf(case: Case) -> bytes:
    """案卷: the case with everything recorded about it."""
    s = _styles()
    full = 170 * mm
    story = [
        _p(_("矛盾纠纷调解案卷"), s["title"]),
        _p(_("案号：%(number)s") % {"number": case.number}, s["number"]),
    ]
    fields = [
        (_("案由"), case.title),
        (_("调解组织"), case.organisation.name),
        (_("纠纷类型"), case.get_dispute_type_display()),
        (_("风险等级"), case.get_risk_level_display() + (_("（群体性）") if case.is_mass else "")),
        (_("涉及人数"), _("%(n)s人，单方最多%(m)s人") % {"n": case.people_involved, "m": case.largest_side}),
        (_("纠纷发生地"), case.origin_region.name),
        (_("状态"), case.get_status_display()),
        (_("重复纠纷"), _("是") if case.is_repeat else _("否")),
        (_("登记时间"), _date(case.registered_at)),
        (_("受理时间"), _date(case.accepted_at)),
        (_("办理期限"), _date(case.conclusion_deadline)),
        (_("调解终结时间"), _date(case.concluded_at)),
        (_("结案时间"), _date(case.closed_at)),
        (
            _("调解员"),
            (case.mediator.display_name or case.mediator.username) if case.mediator else "—",
        ),
    ]
    if case.origin_event_id:
        fields.append((_("来源事件"), f"#{case.origin_event_id}"))
    if case.decline_reason:
        fields.append((_("不予受理理由"), case.decline_reason))
    if case.failure_reason:
        fields.append((_("调解不成原因"), case.failure_reason))
    if case.referral:
        fields.append((_("引导途径"), case.get_referral_display()))
    rows = []
    for index in range(0, len(fields), 2):
        pair = fields[index : index + 2]
        row = []
        for label, value in pair:
            row += [_p(label, s["cell"]), _p(value, s["cell"])]
        row += [""] * (4 - len(row))
        rows.append(row)
    story.append(_table(rows, [25 * mm, 60 * mm, 25 * mm, 60 * mm], s, header=False))

    story += [_p(_("纠纷简要情况"), s["h2"]), _p(case.facts, s["indent"])]

    story.append(_p(_("当事人"), s["h2"]))
    parties = list(case.parties.all())
    if parties:
        rows = [[_("身份"), _("姓名或名称"), _("证件号码"), _("手机号码"), _("住址")]]
        for party in parties:
            number = party.credit_code if party.kind == PartyKind.ORGANISATION else party.id_number_masked
            name = f"{party.name}（{_legal_representative(party)}）" if party.legal_representative else party.name
            rows.append(
                [party.get_side_display(), name, number or "—", party.phone_masked or "—", party.address or "—"]
            )
        story.append(_table(rows, [20 * mm, 30 * mm, 45 * mm, 30 * mm, 45 * mm], s))
    else:
        story.append(_p(_("尚未登记当事人。"), s["small"]))

    story.append(_p(_("调解记录"), s["h2"]))
    sessions = list(case.sessions.all())
    if sessions:
        rows = [[_("日期"), _("地点"), _("参加人员"), _("调解情况")]]
        rows += [[_date(x.held_on), x.place, x.attendees, x.notes] for x in sessions]
        story.append(_table(rows, [22 * mm, 30 * mm, 40 * mm, 78 * mm], s))
    else:
        story.append(_p(_("没有调解记录。"), s["small"]))

    agreement = Agreement.objects.filter(case=case).first()
    story.append(_p(_("调解协议"), s["h2"]))
    if agreement:
        rows = [
            [_("签订日期"), _date(agreement.signed_on), _("履行期限"), _date(agreement.performance_deadline)],
            [_("涉及金额（元）"), f"{agreement.amount:,.2f}" if agreement.amount is not None else "—", "", ""],
            [_("协议内容"), _p(agreement.terms, s["cell"]), "", ""],
        ]
        table = _table(rows, [25 * mm, 60 * mm, 25 * mm, 60 * mm], s, header=False)
        table.setStyle(TableStyle([("SPAN", (1, 2), (3, 2)), ("SPAN", (1, 1), (3, 1))]))
        story.append(table)
    else:
        story.append(_p(_("未达成调解协议。"), s["small"]))

    story.append(_p(_("履行回访"), s["h2"]))
    follow_ups = list(case.follow_ups.all())
    if follow_ups:
        rows = [[_("回访日期"), _("履行情况"), _("满意度"), _("回访情况")]]
        rows += [
            [_date(f.visited_on), f.get_fulfilment_display(), f.get_satisfaction_display(), f.notes or "—"]
            for f in follow_ups
        ]
        story.append(_table(rows, [25 * mm, 30 * mm, 25 * mm, 90 * mm], s))
    else:
        story.append(_p(_("没有回访记录。"), s["small"]))

    confirmation = JudicialConfirmation.objects.filter(case=case).first()
    if confirmation:
        story.append(_p(_("司法确认"), s["h2"]))
        rows = [
            [_("受理法院"), confirmation.court, _("申请日期"), _date(confirmation.applied_on)],
            [
                _("应作出决定日期"),
                _date(confirmation.deadline),
                _("决定"),
                f"{confirmation.get_decision_display()} {_date(confirmation.decided_on)}"
                if confirmation.decision
                else _("待决定"),
            ],
        ]
        story.append(_table(rows, [25 * mm, 60 * mm, 25 * mm, 60 * mm], s, header=False))

    story.append(_p(_("流转记录"), s["h2"]))
    rows = [[_("时间"), _("操作"), _("操作人"), _("状态"), _("说明")]]
    labels = _history_labels()
    for entry in case.history.all():
        status = entry.get_to_status_display() if entry.from_status != entry.to_status else ""
        rows.append([_date(entry.at), labels.get(entry.action, entry.action), entry.actor_name, status, entry.note])
    story.append(_table(rows, [30 * mm, 28 * mm, 25 * mm, 22 * mm, full - 105 * mm], s))
    story += [
        Spacer(1, 6 * mm),
        _p(_("打印时间：%(now)s") % {"now": _date(timezone.now())}, s["small"]),
    ]
    return _build(_("矛盾纠纷调解案卷"), story, case)


def _history_labels() -> dict[str, str]:
    from .transitions import TRANSITIONS
    from .views import HISTORY_LABELS

    return {**{k: str(v) for k, v in HISTORY_LABELS.items()}, **{k: str(t.label) for k, t in TRANSITIONS.items()}}
