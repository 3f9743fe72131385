"""Serializers of the assessment's inputs: the monthly table, survey answers, assessor groups,
scores and reviews, veto rulings, awards, tolerance claims and rectification items, and the
bodies of their step actions. Validation that needs the database or the user is the services'.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.api.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from governance.choices import Role
from governance.codes import Level
from governance.i18n import lazy_message
from governance.models import User
from governance.uploads import upload_help
from grids.models import Region

from ... import selectors, services
from ...choices import AwarenessAnswer, SafetyAnswer, SatisfactionAnswer
from ...engine.scoring import BONUS_CAP_POINTS
from ...filtersets import MONTH_RE
from ...models import (
    REPORT_VALUE_FIELDS,
    AssessorGroup,
    AssessorScore,
    Cycle,
    InnovationAward,
    MonthlyReport,
    RectificationItem,
    ScoreReview,
    SurveyResponse,
    ToleranceClaim,
    VetoRuling,
)
from ...rules import APPEAL_WORKING_DAYS

UNIT_ERRORS = {
    "required": _("请填写被考核单位的区划代码。"),
    "does_not_exist": _("区划“{value}”不存在或不在您的管辖范围内。"),
    "invalid": _("区划代码无效。"),
}


def _unit_field(**kwargs):
    return ScopedSlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), error_messages=UNIT_ERRORS, **kwargs
    )


def _cycle_field():
    return ScopedPrimaryKeyRelatedField(
        queryset=Cycle.objects.all(),
        error_messages={
            "required": _("请选择考核周期。"),
            "does_not_exist": _("考核周期“{pk_value}”不存在或不在您的管辖范围内。"),
            "incorrect_type": _("考核周期应为编号。"),
        },
    )


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-03"})
class MonthField(serializers.Field):
    """A month as "YYYY-MM" (a full date is accepted and taken as its month)."""

    default_error_messages = {"invalid": _("月份格式应为YYYY-MM，例如2026-03。")}

    def to_representation(self, value):
        return f"{value:%Y-%m}"

    def to_internal_value(self, data):
        match = MONTH_RE.match(str(data).strip())
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), 1)
        except (AttributeError, ValueError):
            self.fail("invalid")


def _value_kwargs() -> dict:
    messages = {
        "required": _("请填写此项（没有请填0）。"),
        "null": _("请填写此项（没有请填0）。"),
        "invalid": _("请填写数字。"),
        "min_value": _("不能为负数。"),
        "max_value": _("数值过大。"),
        "max_digits": _("数值过大。"),
        "max_decimal_places": _("最多保留两位小数。"),
    }
    return {name: {"error_messages": messages} for name in REPORT_VALUE_FIELDS}


class MonthlyReportSerializer(serializers.ModelSerializer):
    township = ScopedSlugRelatedField(
        slug_field="code",
        queryset=Region.objects.filter(level=Level.TOWNSHIP),
        error_messages={
            "required": _("请填写乡镇（街道）的区划代码。"),
            "does_not_exist": _("乡镇（街道）“{value}”不存在或不在您的管辖范围内。"),
            "invalid": _("区划代码无效。"),
        },
    )
    township_name = serializers.CharField(source="township.name", read_only=True)
    month = MonthField()
    submitted_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "township",
            "township_name",
            "month",
            "deadline",
            "submitted_at",
            "is_late",
            "submitted_by",
            *REPORT_VALUE_FIELDS,
            "updated_at",
        ]
        read_only_fields = ["deadline", "submitted_at", "is_late", "updated_at"]
        extra_kwargs = _value_kwargs()
        validators: list = []  # (township, month) is the service's business: a second POST corrects

    def validate(self, attrs):
        if self.instance is not None:
            for name in ("township", "month"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError({name: [_("已报送的报表不能更换乡镇或月份。")]})
        values = {name: attrs.get(name, getattr(self.instance, name, None)) for name in REPORT_VALUE_FIELDS}
        if all(value is not None for value in values.values()):
            errors = services.report_value_errors(values)
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class SurveyResponseSerializer(serializers.ModelSerializer):
    village = serializers.SlugRelatedField(slug_field="code", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    evaluator = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "village",
            "village_name",
            "channel",
            "answered_at",
            "safety",
            "satisfaction",
            "awareness",
            "household",
            "evaluator",
        ]
        read_only_fields = fields


def _answer_field(choices, label):
    return serializers.ChoiceField(
        choices=choices,
        required=False,
        allow_blank=True,
        label=label,
        error_messages={"invalid_choice": _("“{input}”不是有效的选项。")},
    )


class OfflineSurveySerializer(serializers.Serializer):
    """One sampled household's answers (入户调查); a blank answer means the question went unanswered."""

    village = ScopedSlugRelatedField(
        slug_field="code",
        queryset=Region.objects.filter(level=Level.VILLAGE),
        error_messages={
            "required": _("请填写村（社区）的区划代码。"),
            "does_not_exist": _("村（社区）“{value}”不存在或不在您的管辖范围内。"),
        },
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100, error_messages={"required": _("请填写年度。")})
    round_no = serializers.ChoiceField(
        choices=[(1, _("上半年")), (2, _("下半年"))],
        error_messages={"required": _("请填写轮次。"), "invalid_choice": _("轮次只能是1（上半年）或2（下半年）。")},
    )
    household = serializers.IntegerField(
        min_value=1, error_messages={"required": _("请填写样本户号。"), "min_value": _("户号从1开始。")}
    )
    visited_on = serializers.DateField(
        error_messages={"required": _("请填写走访日期。"), "invalid": _("日期格式应为YYYY-MM-DD。")}
    )
    safety = _answer_field(SafetyAnswer.choices, _("安全感"))
    satisfaction = _answer_field(SatisfactionAnswer.choices, _("满意度"))
    awareness = _answer_field(AwarenessAnswer.choices, _("反诈知晓"))


class AssessorGroupSerializer(serializers.ModelSerializer):
    cycle = _cycle_field()
    members = ScopedPrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.ASSESSOR),
        many=True,
        error_messages={"does_not_exist": _("考核员“{pk_value}”不存在或不在您的管辖范围内。")},
    )
    units = ScopedSlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), many=True, error_messages=UNIT_ERRORS
    )

    class Meta:
        model = AssessorGroup
        fields = ["id", "cycle", "name", "is_third_party", "members", "units"]
        validators: list = []  # the unique name per cycle is checked by the service, as a field error


class GroupField(serializers.PrimaryKeyRelatedField):
    """A group the caller may see (jurisdiction or membership); others are answered like unknown ids."""

    def get_queryset(self):
        request = self.context.get("request")
        return selectors.visible_groups(request.user if request else None)


class AssessorScoreSerializer(serializers.ModelSerializer):
    group = GroupField(
        error_messages={
            "required": _("请选择考核组。"),
            "does_not_exist": _("考核组“{pk_value}”不存在或您不是其成员。"),
        }
    )
    unit = _unit_field()
    indicator = serializers.CharField(max_length=8, error_messages={"required": _("请填写指标编号。")})
    score = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        error_messages={
            "required": _("请填写评分。"),
            "invalid": _("请填写0到100之间的数字。"),
            "min_value": _("评分应在0到100之间。"),
            "max_value": _("评分应在0到100之间。"),
            "max_digits": _("评分应在0到100之间。"),
            "max_decimal_places": _("最多保留两位小数。"),
        },
    )
    scored_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = AssessorScore
        fields = ["id", "cycle", "group", "unit", "indicator", "score", "note", "scored_by", "scored_at"]
        read_only_fields = ["cycle", "scored_at"]
        validators: list = []


class ScoreReviewSerializer(serializers.ModelSerializer):
    cycle = _cycle_field()
    unit = _unit_field()
    reviewer = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = ScoreReview
        fields = ["id", "cycle", "unit", "indicator", "kind", "reason", "reviewer", "reviewed_at"]
        read_only_fields = ["reviewed_at"]
        validators: list = []
        extra_kwargs = {
            "kind": {"error_messages": {"required": _("请选择审核决定。"), "invalid_choice": _("请选择审核决定。")}},
            "reason": {"error_messages": {"required": _("请填写审核理由。"), "blank": _("请填写审核理由。")}},
        }


class VetoRulingSerializer(serializers.ModelSerializer):
    unit = _unit_field()
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    evidence = serializers.FileField(write_only=True, required=False)
    has_evidence = serializers.SerializerMethodField()
    recorded_by = serializers.StringRelatedField(read_only=True)
    appeal_deadline = serializers.SerializerMethodField(
        help_text=lazy_message(
            gettext_noop("申诉期限：裁定后第%(days)s个工作日（列表中不计算，为 null）。"), days=APPEAL_WORKING_DAYS
        )
    )

    class Meta:
        model = VetoRuling
        fields = [
            "id",
            "unit",
            "unit_name",
            "indicator",
            "occurred_on",
            "description",
            "evidence",
            "has_evidence",
            "status",
            "appeal_reason",
            "decision_note",
            "recorded_by",
            "recorded_at",
            "appeal_deadline",
        ]
        read_only_fields = ["status", "appeal_reason", "decision_note", "recorded_at"]
        extra_kwargs = {
            "indicator": {"error_messages": {"required": _("请选择否决指标。"), "blank": _("请选择否决指标。")}},
            "occurred_on": {
                "error_messages": {"required": _("请填写发生日期。"), "invalid": _("日期格式应为YYYY-MM-DD。")}
            },
            "description": {"error_messages": {"required": _("请填写事实与依据。"), "blank": _("请填写事实与依据。")}},
        }

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence)

    def get_appeal_deadline(self, obj) -> dt.date | None:
        view = self.context.get("view")
        if view is not None and view.action == "list":
            return None  # a working-day calendar lookup per row; the detail has it
        return timezone.localtime(services.appeal_deadline(obj)).date()


class AppealSerializer(serializers.Serializer):
    appeal_reason = serializers.CharField(
        max_length=4000, error_messages={"required": _("请填写申诉理由。"), "blank": _("请填写申诉理由。")}
    )


class VetoDecisionSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=[("uphold", _("驳回申诉，维持裁定")), ("revoke", _("撤销裁定"))],
        error_messages={
            "required": _("请选择维持或撤销。"),
            "invalid_choice": _("请选择维持（uphold）或撤销（revoke）。"),
        },
    )
    decision_note = serializers.CharField(
        max_length=4000, error_messages={"required": _("请填写申诉处理意见。"), "blank": _("请填写申诉处理意见。")}
    )


class InnovationAwardSerializer(serializers.ModelSerializer):
    unit = _unit_field()
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    awarded_by = serializers.StringRelatedField(read_only=True)
    points = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=0,
        max_value=BONUS_CAP_POINTS,
        error_messages={
            "required": _("请填写加分。"),
            "invalid": _("请填写数字。"),
            "min_value": lazy_message(gettext_noop("创新加分应在0到%(cap)s分之间。"), cap=BONUS_CAP_POINTS),
            "max_value": lazy_message(gettext_noop("创新加分应在0到%(cap)s分之间。"), cap=BONUS_CAP_POINTS),
            "max_digits": lazy_message(gettext_noop("创新加分应在0到%(cap)s分之间。"), cap=BONUS_CAP_POINTS),
            "max_decimal_places": _("最多保留两位小数。"),
        },
    )

    class Meta:
        model = InnovationAward
        fields = ["id", "unit", "unit_name", "year", "points", "reason", "awarded_by"]
        validators: list = []
        extra_kwargs = {
            "reason": {"error_messages": {"required": _("请填写加分理由。"), "blank": _("请填写加分理由。")}}
        }


class ToleranceClaimSerializer(serializers.ModelSerializer):
    cycle = _cycle_field()
    unit = _unit_field()
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    evidence = serializers.FileField(write_only=True, required=False)
    has_evidence = serializers.SerializerMethodField()
    claimed_by = serializers.StringRelatedField(read_only=True)
    decided_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = ToleranceClaim
        fields = [
            "id",
            "cycle",
            "unit",
            "unit_name",
            "indicator",
            "reasons",
            "evidence",
            "has_evidence",
            "status",
            "claimed_by",
            "claimed_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = ["status", "claimed_at", "decided_at", "decision_note"]
        validators: list = []
        extra_kwargs = {
            "indicator": {"error_messages": {"required": _("请选择指标。"), "blank": _("请选择指标。")}},
            "reasons": {
                "error_messages": {"required": _("请填写申请容错的理由。"), "blank": _("请填写申请容错的理由。")}
            },
        }

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence)


class ClaimDecisionSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=[("approve", _("批准容错")), ("reject", _("不予批准"))],
        error_messages={
            "required": _("请选择审核结果。"),
            "invalid_choice": _("请选择批准（approve）或不予批准（reject）。"),
        },
    )
    decision_note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class RectificationItemSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    closed_by = serializers.StringRelatedField(read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = RectificationItem
        fields = [
            "id",
            "cycle",
            "unit",
            "unit_name",
            "indicator",
            "ratio",
            "notice_due_on",
            "due_on",
            "status",
            "report",
            "reported_at",
            "closed_on",
            "closed_by",
            "recurring",
            "overdue",
            "has_evidence",
            "return_reason",
        ]
        read_only_fields = fields

    has_evidence = serializers.SerializerMethodField()

    def get_overdue(self, obj) -> bool:
        return services.rectification_overdue(obj)

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence)


class RectificationReportSerializer(serializers.Serializer):
    report = serializers.CharField(
        max_length=8000, error_messages={"required": _("请填写整改报告。"), "blank": _("请填写整改报告。")}
    )
    evidence = serializers.FileField(
        required=False, help_text=upload_help(gettext_noop("整改佐证材料（照片、PDF或Word，不超过%(mb)sMB）。"))
    )


class RectificationReturnSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=500, error_messages={"required": _("请填写退回理由。"), "blank": _("请填写退回理由。")}
    )
