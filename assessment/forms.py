"""Forms of the assessment's input pages. They check the shape of the input; the rules (who,
which state, which unit) are assessment.services' and assessment.transitions', whose errors the views put back on these
forms field by field. Labels and messages are Chinese msgids."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from disputes.forms import date_field
from governance.choices import Role
from governance.i18n import lazy_message
from governance.models import User
from governance.scoping import scope_prefix
from governance.uploads import upload_help
from grids.events.forms import EventFormMixin
from grids.models import Region

from . import selectors, services, transitions
from .choices import AwarenessAnswer, CycleStatus, SafetyAnswer, SatisfactionAnswer
from .engine.scoring import BONUS_CAP_POINTS
from .models import REPORT_VALUE_FIELDS, Cycle, MonthlyReport, ScoreReview

TEXTAREA = {"rows": 3}


def _count_field(name: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=MonthlyReport._meta.get_field(name).verbose_name,
        min_value=0,
        max_value=2_147_483_647,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
        error_messages={
            "required": _("请填写此项（没有请填0）。"),
            "invalid": _("请填写整数。"),
            "min_value": _("不能为负数。"),
            "max_value": _("数值过大。"),
        },
    )


def _text(label, *, max_length: int, required_message, rows: int = 3, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": required_message,
            "max_length": _("最多%(limit_value)d个字。"),
        },
    )


def _evidence(label=None, required: bool = True) -> forms.FileField:
    """Checked by the service (governance.uploads.check_upload), with every other field's error."""
    return forms.FileField(
        label=label or _("证明材料"),
        required=required,
        help_text=upload_help(),
        error_messages={"required": _("请上传证明材料。"), "invalid": _("请选择有效的文件。")},
    )


def unit_choices(user):
    """The assessed units (city, county, township level) inside the user's jurisdiction."""
    return Region.objects.restrict(user).filter(level__in=services.assessment_levels()).order_by("code")


class UnitField(forms.ModelChoiceField):
    """An assessed unit, chosen by region code; foreign codes are answered like unknown ones."""

    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("label", _("被考核单位"))
        kwargs.setdefault("empty_label", _("请选择单位"))
        kwargs.setdefault(
            "error_messages",
            {"required": _("请选择被考核单位。"), "invalid_choice": _("请选择辖区内的被考核单位。")},
        )
        super().__init__(queryset, to_field_name="code", **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


# --- Monthly core table ----------------------------------------------------------------------------------


class MonthlyReportForm(EventFormMixin, forms.Form):
    """综治考核核心指标表: the values of one township and month."""

    funding_yuan = forms.DecimalField(
        label=MonthlyReport._meta.get_field("funding_yuan").verbose_name,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": 0}),
        error_messages={
            "required": _("请填写此项（没有请填0）。"),
            "invalid": _("请填写金额（元）。"),
            "min_value": _("不能为负数。"),
            "max_digits": _("金额过大。"),
            "max_decimal_places": _("金额最多保留两位小数。"),
        },
    )
    mediators_fulltime = _count_field("mediators_fulltime")
    mediators_parttime = _count_field("mediators_parttime")
    petitions_received = _count_field("petitions_received")
    petitions_resolved_first = _count_field("petitions_resolved_first")
    criminal_cases = _count_field("criminal_cases")
    key_persons_registered = _count_field("key_persons_registered")
    key_persons_managed = _count_field("key_persons_managed")
    households_reached = _count_field("households_reached")
    cadres = _count_field("cadres")
    cadres_on_track = _count_field("cadres_on_track")

    GROUPS = (
        (_("经费与队伍"), ("funding_yuan", "mediators_fulltime", "mediators_parttime")),
        (_("信访与治安"), ("petitions_received", "petitions_resolved_first", "criminal_cases")),
        (_("重点人员与反诈宣传"), ("key_persons_registered", "key_persons_managed", "households_reached")),
        (_("干部培训"), ("cadres", "cadres_on_track")),
    )

    def clean(self):
        cleaned = super().clean()
        if all(cleaned.get(name) is not None for name in REPORT_VALUE_FIELDS):
            for field, messages in services.report_value_errors(cleaned).items():
                self.add_error(field, messages)
        return cleaned

    def groups(self):
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]


# --- Surveys ---------------------------------------------------------------------------------------------

QUESTIONS = {
    "safety": _("您觉得本村（社区）的治安状况安全吗？"),
    "satisfaction": _("您对本村（社区）的平安建设和综治工作满意吗？"),
    "awareness": _("您知道如何识别和防范电信网络诈骗吗？"),
}
ANSWERS = {"safety": SafetyAnswer, "satisfaction": SatisfactionAnswer, "awareness": AwarenessAnswer}


class SurveyForm(EventFormMixin, forms.Form):
    """The public questionnaire (扫码问卷): three questions; the hidden key makes re-sending harmless."""

    client_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("页面已过期，请刷新后重新填写。"),
            "invalid": _("页面已过期，请刷新后重新填写。"),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in QUESTIONS.items():
            self.fields[name] = forms.ChoiceField(
                label=label,
                choices=ANSWERS[name].choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("请选择一项。"), "invalid_choice": _("请选择有效的选项。")},
            )

    def answers(self) -> dict:
        return {name: self.cleaned_data[name] for name in QUESTIONS}


class OfflineSurveyForm(EventFormMixin, forms.Form):
    """入户调查: the answers of one sampled household as the evaluator recorded them."""

    visited_on = date_field(_("走访日期"), initial_today=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in QUESTIONS.items():
            self.fields[name] = forms.ChoiceField(
                label=label,
                required=False,
                choices=[*ANSWERS[name].choices, ("", _("未回答"))],
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": _("请选择有效的选项。")},
            )

    def answers(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in QUESTIONS}


# --- Assessor groups, scores, reviews ----------------------------------------------------------------------


def open_cycles(user):
    return Cycle.objects.restrict(user).exclude(status=CycleStatus.FINALISED).select_related("root")


def organised_cycles(user):
    """Open cycles whose root lies in the user's jurisdiction (the user may organise them)."""
    prefix = scope_prefix(user)
    cycles = open_cycles(user)
    return cycles if prefix is None else cycles.filter(region_code__under=prefix or "-")


class CycleField(forms.ModelChoiceField):
    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("label", _("考核周期"))
        kwargs.setdefault("empty_label", _("请选择考核周期"))
        kwargs.setdefault(
            "error_messages",
            {"required": _("请选择考核周期。"), "invalid_choice": _("请选择未定稿的考核周期。")},
        )
        super().__init__(queryset.order_by("-year", "-created_at"), **kwargs)

    def label_from_instance(self, obj):
        return str(obj)


class MemberField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        region = f"（{obj.region.name}）" if obj.region_id else ""
        return f"{obj.display_name or obj.username}{region}"


class GroupForm(EventFormMixin, forms.Form):
    """考核组: a cycle, a name, the assessors and the units they score."""

    name = forms.CharField(
        label=_("考核组名称"),
        max_length=60,
        error_messages={"required": _("请填写考核组名称。"), "max_length": _("最多60个字。")},
    )
    is_third_party = forms.BooleanField(label=_("第三方评估机构"), required=False)

    def __init__(self, *args, user: User, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        if group is None:
            self.fields["cycle"] = CycleField(organised_cycles(user))
        self.fields["members"] = MemberField(
            queryset=User.objects.restrict(user)
            .filter(role=Role.ASSESSOR, is_active=True)
            .select_related("region")
            .order_by("region__code", "username"),
            label=_("考核员"),
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("请至少选择一名考核员。"), "invalid_choice": _("请选择辖区内的考核员。")},
        )
        units = unit_choices(user)
        self.fields["units"] = forms.ModelMultipleChoiceField(
            queryset=units,
            to_field_name="code",
            label=_("负责考核的单位"),
            help_text=_("按住Ctrl（苹果电脑按Command）可多选。"),
            widget=forms.SelectMultiple(attrs={"size": 10}),
            error_messages={
                "required": _("请至少选择一个被考核单位。"),
                "invalid_choice": _("请选择辖区内的被考核单位。"),
                "invalid_pk_value": _("请选择辖区内的被考核单位。"),
            },
        )
        self.fields["units"].label_from_instance = lambda r: f"{r.code} {r.name}"
        self.order_fields(["cycle", "name", "is_third_party", "members", "units"])
        if group is not None and not self.is_bound:
            self.initial.update(
                name=group.name,
                is_third_party=group.is_third_party,
                members=[m.pk for m in group.members.all()],
                units=[u.code for u in group.units.all()],
            )


class ScoreUnitForm(EventFormMixin, forms.Form):
    """One unit's scores: 0–100 and a note for every indicator scored by assessor groups."""

    def __init__(self, *args, indicators, existing: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        self.existing = existing
        for indicator in indicators:
            row = existing.get(indicator.code)
            self.fields[f"score_{indicator.code}"] = forms.DecimalField(
                label=f"{indicator.code} {indicator.name_zh}",
                required=False,
                min_value=0,
                max_value=100,
                max_digits=5,
                decimal_places=2,
                initial=row.score if row else None,
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5", "min": 0, "max": 100}),
                error_messages={
                    "invalid": _("请填写0到100之间的数字。"),
                    "min_value": _("评分应在0到100之间。"),
                    "max_value": _("评分应在0到100之间。"),
                    "max_decimal_places": _("最多保留两位小数。"),
                    "max_digits": _("评分应在0到100之间。"),
                },
            )
            self.fields[f"note_{indicator.code}"] = forms.CharField(
                label=_("评分说明"),
                required=False,
                max_length=300,
                initial=row.note if row else "",
                error_messages={"max_length": _("评分说明最多300个字。")},
            )

    def rows(self):
        return [
            {
                "indicator": i,
                "score": self[f"score_{i.code}"],
                "note": self[f"note_{i.code}"],
                "existing": self.existing.get(i.code),
            }
            for i in self.indicators
        ]

    def entries(self) -> list[tuple[str, object, str]]:
        """(indicator, score, note) for every indicator given a score."""
        out = []
        for indicator in self.indicators:
            score = self.cleaned_data.get(f"score_{indicator.code}")
            if score is not None:
                out.append((indicator.code, score, self.cleaned_data.get(f"note_{indicator.code}") or ""))
        return out


class ReviewForm(EventFormMixin, forms.Form):
    """评分审核 of one unit's assessed indicator in the chosen cycle."""

    kind = forms.ChoiceField(
        label=_("审核决定"),
        choices=ScoreReview.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择审核决定。")},
    )
    reason = _text(_("理由"), max_length=300, required_message=_("请填写审核理由。"), rows=2)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = UnitField(unit_choices(user))
        self.fields["indicator"] = forms.ChoiceField(
            label=_("指标"),
            choices=[
                ("", _("请选择指标")),
                *((i.code, f"{i.code} {i.name_zh}") for i in selectors.assessed_indicators()),
            ],
            error_messages={"required": _("请选择指标。"), "invalid_choice": _("请选择由考核组评分的指标。")},
        )
        self.order_fields(["unit", "indicator", "kind", "reason"])


# --- Veto rulings ----------------------------------------------------------------------------------------


class VetoForm(EventFormMixin, forms.Form):
    """一票否决裁定."""

    occurred_on = date_field(_("发生日期"))
    description = _text(_("事实与依据"), max_length=4000, required_message=_("请填写事实与依据。"), rows=5)
    evidence = _evidence(_("证据材料"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = UnitField(unit_choices(user))
        self.fields["indicator"] = forms.ChoiceField(
            label=_("否决指标"),
            choices=[
                ("", _("请选择否决指标")),
                *((i.code, f"{i.code} {i.name_zh}") for i in selectors.veto_indicators()),
            ],
            error_messages={"required": _("请选择否决指标。"), "invalid_choice": _("请选择V01、V02、V03或V05。")},
        )
        self.order_fields(["unit", "indicator", "occurred_on", "description", "evidence"])


class AppealForm(EventFormMixin, forms.Form):
    appeal_reason = _text(_("申诉理由"), max_length=4000, required_message=_("请填写申诉理由。"), rows=4)


class VetoDecisionForm(EventFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("处理结果"),
        choices=[(name, transitions.RULINGS[name].label) for name in ("uphold", "revoke")],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择维持或撤销。")},
    )
    decision_note = _text(_("申诉处理意见"), max_length=4000, required_message=_("请填写申诉处理意见。"))


# --- Innovation awards -----------------------------------------------------------------------------------


class AwardForm(EventFormMixin, forms.Form):
    """创新加分: 0–3 points for a unit and year."""

    year = forms.IntegerField(
        label=_("年度"),
        min_value=2000,
        max_value=2100,
        initial=lambda: timezone.localdate().year,
        error_messages={"required": _("请填写年度。"), "invalid": _("请填写年度，例如2026。")},
    )
    points = forms.DecimalField(
        label=lazy_message(gettext_noop("加分（0–%(cap)s分）"), cap=BONUS_CAP_POINTS),
        min_value=0,
        max_value=BONUS_CAP_POINTS,
        max_digits=4,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5", "min": 0, "max": BONUS_CAP_POINTS}),
        error_messages={
            "required": _("请填写加分。"),
            "invalid": _("请填写数字。"),
            "min_value": lazy_message(gettext_noop("创新加分应在0到%(cap)s分之间。"), cap=BONUS_CAP_POINTS),
            "max_value": lazy_message(gettext_noop("创新加分应在0到%(cap)s分之间。"), cap=BONUS_CAP_POINTS),
            "max_decimal_places": _("最多保留两位小数。"),
            "max_digits": lazy_message(gettext_noop("创新加分应在0到%(cap)s分之间。"), cap=BONUS_CAP_POINTS),
        },
    )
    reason = _text(_("加分理由"), max_length=500, required_message=_("请填写加分理由。"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = UnitField(unit_choices(user))
        self.order_fields(["unit", "year", "points", "reason"])


# --- Tolerance claims ------------------------------------------------------------------------------------


class ClaimForm(EventFormMixin, forms.Form):
    """容错申请: the unit is the user's own region."""

    reasons = _text(_("申请理由"), max_length=4000, required_message=_("请填写申请容错的理由。"), rows=5)
    evidence = _evidence()

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"] = CycleField(open_cycles(user))
        units = unit_choices(user)
        if not user.is_superuser:
            units = units.filter(pk=user.region_id)
        self.fields["unit"] = UnitField(units)
        first = list(units[:2])
        if len(first) == 1 and not self.is_bound:
            self.fields["unit"].initial = first[0].code
        self.fields["indicator"] = forms.ChoiceField(
            label=_("申请容错的指标"),
            choices=[
                ("", _("请选择指标")),
                *((i.code, f"{i.code} {i.name_zh}") for i in selectors.claimable_indicators()),
            ],
            error_messages={"required": _("请选择指标。"), "invalid_choice": _("请选择一项计分指标。")},
        )
        self.order_fields(["cycle", "unit", "indicator", "reasons", "evidence"])


class ClaimDecisionForm(EventFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=[(name, transitions.CLAIMS[name].label) for name in ("approve", "reject")],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择审核结果。")},
    )
    decision_note = _text(_("审核意见"), max_length=300, required_message=_("请填写审核意见。"), rows=2, required=False)


# --- Rectification ---------------------------------------------------------------------------------------


class RectificationReportForm(EventFormMixin, forms.Form):
    report = _text(_("整改报告"), max_length=8000, required_message=_("请填写整改报告。"), rows=6)
    evidence = _evidence(_("整改佐证材料"), required=False)


class RectificationReturnForm(EventFormMixin, forms.Form):
    note = _text(_("退回理由"), max_length=500, required_message=_("请填写退回理由。"), rows=2)


# --- Appeals on scores -----------------------------------------------------------------------------------


class ScoreAppealForm(EventFormMixin, forms.Form):
    """申诉 on one indicator line (the line is in the page's address)."""

    reasons = _text(_("申诉理由"), max_length=4000, required_message=_("请填写申诉理由。"), rows=5)
    evidence = _evidence()


class AppealDecisionForm(EventFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("处理结果"),
        choices=[(t.name, t.label) for t in transitions.APPEALS],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择处理结果。")},
    )
    adjusted_percent = forms.CharField(
        label=_("调整后得分率（%）"),
        required=False,
        help_text=_("申诉成立时填写，0–100；该指标得分按此得分率重新计算。"),
    )
    decision_note = _text(_("处理意见（调整理由）"), max_length=4000, required_message=_("请填写处理意见。"), rows=3)
