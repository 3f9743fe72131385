"""Serializers of what comes after the scores: appeals on a score line and their decision, and the
data-credibility flags.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ...models import CredibilityFlag, ScoreAppeal
from .inputs import _cycle_field, _unit_field


class ScoreAppealSerializer(serializers.ModelSerializer):
    cycle = _cycle_field()
    unit = _unit_field()
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    evidence = serializers.FileField(write_only=True, required=False)
    filed_by = serializers.StringRelatedField(read_only=True)
    decided_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = ScoreAppeal
        fields = [
            "id", "cycle", "unit", "unit_name", "indicator", "reasons", "evidence", "status",
            "points_at_filing", "ratio_at_filing", "filed_by", "filed_at", "decide_by", "decided_by",
            "decided_at", "decision_note", "adjusted_percent", "supervised_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "points_at_filing", "ratio_at_filing", "filed_at", "decide_by", "decided_at",
            "decision_note", "adjusted_percent", "supervised_at",
        ]  # fmt: skip
        validators: list = []  # one appeal per line is the service's business
        extra_kwargs = {
            "indicator": {"error_messages": {"required": _("请选择申诉的指标。"), "blank": _("请选择申诉的指标。")}},
            "reasons": {"error_messages": {"required": _("请填写申诉理由。"), "blank": _("请填写申诉理由。")}},
        }


class AppealDecisionSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=[("uphold", _("申诉成立")), ("dismiss", _("申诉不成立"))],
        error_messages={
            "required": _("请选择申诉成立或不成立。"),
            "invalid_choice": _("请选择成立（uphold）或不成立（dismiss）。"),
        },
    )
    decision_note = serializers.CharField(
        max_length=4000, error_messages={"required": _("请填写处理意见。"), "blank": _("请填写处理意见。")}
    )
    adjusted_percent = serializers.CharField(required=False, allow_blank=True, help_text=_("调整后得分率（0–100%）"))


class FlagSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="region.name", read_only=True)
    rule_display = serializers.CharField(source="get_rule_display", read_only=True)
    records = serializers.SerializerMethodField(help_text=_("触发预警的记录数"))

    class Meta:
        model = CredibilityFlag
        fields = [
            "id", "rule", "rule_display", "region_code", "unit_name", "first", "last", "figures", "records", "found_at",
        ]  # fmt: skip

    def get_records(self, obj) -> int:
        return len(obj.record_ids)
