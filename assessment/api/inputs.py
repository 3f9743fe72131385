"""/api/v1/assessment/…: the assessment's inputs (SPEC §5.2–§5.4).

Every viewset reads through `restrict(user)` (outside the jurisdiction: 404) and writes only
through assessment.inputs, whose refusals come back as {"detail", "fields"} with Chinese
field messages. Submissions that a client may retry are idempotent: POSTing a monthly table,
a score, a review or an award that already exists updates it (200) instead of duplicating it
(201 on first creation).

    monthly-reports     核心指标表: list, read, submit (POST) and correct (PATCH/PUT) until the deadline
    surveys             问卷答卷: list; POST an offline household answer; GET sample/ for an evaluator
    assessor-groups     考核组: list, create, change
    assessor-scores     考核组评分: list; POST scores (again: re-scores)
    score-reviews       评分审核: list; POST accept_spread / not_applicable
    veto-rulings        一票否决: list, read, record; POST appeal/ and decide/; GET evidence/
    innovation-awards   创新加分: list, read, award (POST again or PATCH: change)
    tolerance-claims    容错申请: list, read, claim; POST decide/; GET evidence/
    rectifications      整改台账: list, read; POST report/, close/, return/
"""

from __future__ import annotations

import datetime as dt
import re

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from governance.api.base import ScopedModelViewSet, ScopedReadOnlyViewSet
from governance.api.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from governance.api.filters import SubtreeFilter, year_filter
from governance.choices import Role
from governance.models import User
from governance.pdf_fonts import pdf_response
from grids.api.event_views import PassthroughNegotiation, drf_error
from grids.choices import Level
from grids.models import Region

from .. import inputs
from ..choices import (
    AwarenessAnswer,
    ClaimStatus,
    RectificationStatus,
    RulingStatus,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyChannel,
)
from ..models import (
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

READ = "assessment.inputs"

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


def _run(write, *, check=None):
    """Call a service inside a transaction; its refusals become the API's field errors, and the
    written row must still be visible to the caller (else rolled back, 404)."""
    try:
        with transaction.atomic():
            result = write()
            if check is not None:
                check(result[0] if isinstance(result, tuple) else result)
            return result
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict") and getattr(exc, "code", None) == "not_allowed":
            raise PermissionDenied(" ".join(exc.messages)) from exc
        raise drf_error(exc) from exc


def _download(field_file):
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=field_file.name.rsplit("/", 1)[-1])
    response["X-Content-Type-Options"] = "nosniff"
    return response


class StepMixin:
    """Detail actions that make one step of an input's life through its service."""

    def _step(self, request, body_class, call):
        """A detail action: the object (scoped), its validated body, then `call(obj, data)` — a
        service step — inside _run; answers the object as it is now."""
        obj = self.get_object()
        data = {}
        if body_class is not None:
            body = body_class(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
        return Response(self.get_serializer(_run(lambda: call(obj, data))).data)


class InputViewSet(StepMixin, ScopedModelViewSet):
    """Reads need the `assessment.inputs` capability; no input is ever deleted over the API."""

    view_capability = READ
    http_method_names = ["get", "post", "head", "options"]
    action_capabilities: dict[str, str] = {}
    default_capability: str | None = None

    @property
    def change_capability(self) -> str | None:
        return self.action_capabilities.get(self.action, self.default_capability)

    def _visible(self, instance) -> None:
        self._check_still_visible(instance)

    # The service that creates the record from the validated data (user=..., **data), if the
    # generic create below applies.
    create_service = None

    def create(self, request, *args, **kwargs):
        if self.create_service is None:
            return super().create(request, *args, **kwargs)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        service = type(self).create_service
        record = _run(lambda: service(user=request.user, **data), check=self._visible)
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)


# --- Monthly core table ----------------------------------------------------------------------------------

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?$")


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
    return {name: {"error_messages": messages} for name in inputs.REPORT_VALUE_FIELDS}


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
            *inputs.REPORT_VALUE_FIELDS,
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
        values = {name: attrs.get(name, getattr(self.instance, name, None)) for name in inputs.REPORT_VALUE_FIELDS}
        if all(value is not None for value in values.values()):
            errors = inputs.report_value_errors(values)
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class MonthlyReportFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    year = year_filter(field_name="month__year", label=_("年度"))
    month = django_filters.CharFilter(method="filter_month", label=_("月份（YYYY-MM）"))
    is_late = django_filters.BooleanFilter(label=_("逾期报送"))

    class Meta:
        model = MonthlyReport
        fields = ["under", "year", "month", "is_late"]

    def filter_month(self, queryset, name, value):
        match = MONTH_RE.match(value.strip())
        if not match:
            return queryset.none()
        try:
            return queryset.filter(month=dt.date(int(match.group(1)), int(match.group(2)), 1))
        except ValueError:
            return queryset.none()


class MonthlyReportViewSet(InputViewSet):
    """综治考核核心指标表 of the townships in the caller's jurisdiction.

    POST submits a township's table for a month (201); POSTing the same township and month again
    corrects it (200) — until the deadline (the 5th of the next month, end of day). After the
    deadline a table cannot be changed (re-sending identical values is harmless). A table first
    submitted after the deadline is stored with `is_late: true`.
    """

    queryset = MonthlyReport.objects.select_related("township", "submitted_by")
    serializer_class = MonthlyReportSerializer
    filterset_class = MonthlyReportFilterSet
    ordering_fields = ["month", "region_code", "submitted_at"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    default_capability = "assessment.report"

    def _submit(self, *, township, month, values):
        report, created = _run(
            lambda: inputs.report_submit(user=self.request.user, township=township, month=month, values=values),
            check=self._visible,
        )
        body = self.get_serializer(report).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses={201: MonthlyReportSerializer, 200: MonthlyReportSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        values = {name: data.get(name) for name in inputs.REPORT_VALUE_FIELDS}
        return self._submit(township=data["township"], month=data["month"], values=values)

    def update(self, request, *args, **kwargs):
        report = self.get_object()
        serializer = self.get_serializer(report, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        values = {
            name: serializer.validated_data.get(name, getattr(report, name)) for name in inputs.REPORT_VALUE_FIELDS
        }
        return self._submit(township=report.township, month=report.month, values=values)


# --- Surveys ---------------------------------------------------------------------------------------------


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


class SurveyFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    channel = django_filters.ChoiceFilter(choices=SurveyChannel.choices)
    since = django_filters.IsoDateTimeFilter(field_name="answered_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="answered_at", lookup_expr="lt")

    class Meta:
        model = SurveyResponse
        fields = ["under", "channel", "since", "until"]


class SurveyResponseViewSet(InputViewSet):
    """问卷答卷 of the villages in the caller's jurisdiction (online answers are anonymous).

    POST records an evaluator's offline answer for a household of the round's random sample
    (see `sample/`); posting the same village, year, round and household again corrects it.
    Online answers come only from the public page /survey/<village code>/.
    """

    queryset = SurveyResponse.objects.select_related("village", "evaluator")
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyFilterSet
    ordering_fields = ["answered_at", "region_code"]
    default_capability = "assessment.survey"

    @extend_schema(
        request=OfflineSurveySerializer, responses={201: SurveyResponseSerializer, 200: SurveyResponseSerializer}
    )
    def create(self, request, *args, **kwargs):
        body = OfflineSurveySerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        response, created = _run(lambda: inputs.survey_record_offline(user=request.user, **data), check=self._visible)
        return Response(
            self.get_serializer(response).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("village", str, required=True, description="村（社区）区划代码"),
            OpenApiParameter("year", int),
            OpenApiParameter("round", int, description="1 上半年 / 2 下半年"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["get"])
    def sample(self, request):
        """The round's household sample of a village, in draw order (evaluators only: the
        surveyed units must not know in advance whom the evaluator will ask)."""
        if not request.user.can("assessment.survey"):
            raise PermissionDenied(_("只有考核员可以查看入户调查抽样名单。"))
        village = get_object_or_404(
            Region.objects.restrict(request.user), code=request.query_params.get("village", ""), level=Level.VILLAGE
        )
        today = timezone.localdate()
        year = _int(request.query_params.get("year"), today.year)
        round_no = _int(request.query_params.get("round"), inputs.round_of(today))
        if round_no not in inputs.SURVEY_ROUNDS:
            raise drf_error(DjangoValidationError({"round": [_("轮次只能是1（上半年）或2（下半年）。")]}))
        sample = inputs.survey_sample(village, year, round_no)
        keys = {inputs.offline_key(village.code, year, round_no, h.number): h for h in sample}
        entered = set(self.get_queryset().filter(client_key__in=keys).values_list("client_key", flat=True))
        return Response(
            {
                "village": village.code,
                "year": year,
                "round": round_no,
                "households": [
                    {
                        "order": h.order,
                        "household": h.number,
                        "reserve": h.reserve,
                        "entered": key in entered,
                    }
                    for key, h in keys.items()
                ],
            }
        )


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- Assessor groups and scores --------------------------------------------------------------------------


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


class GroupQuerysetMixin:
    def group_queryset(self, user):
        """Groups inside the caller's jurisdiction, and the groups the caller is a member of."""
        return AssessorGroup.objects.filter(
            Q(AssessorGroup.jurisdiction_q(user)) | Q(pk__in=inputs.groups_of_assessor(user).values("pk"))
        )


class AssessorGroupViewSet(GroupQuerysetMixin, InputViewSet):
    """考核组 (assessors and the units they score in a cycle). Formed by staff at or above the
    cycle's root; an assessor also sees the groups they belong to."""

    queryset = AssessorGroup.objects.select_related("cycle").prefetch_related("members", "units")
    serializer_class = AssessorGroupSerializer
    filterset_fields = ["cycle"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    default_capability = "assessment.group"

    def get_queryset(self):
        user = self.request.user
        return self.queryset.filter(pk__in=self.group_queryset(user).values("pk")).order_by("cycle", "name")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        group = _run(
            lambda: inputs.group_save(
                user=request.user,
                cycle=data["cycle"],
                name=data["name"],
                is_third_party=data.get("is_third_party", False),
                members=list(data["members"]),
                units=list(data["units"]),
            ),
            check=self._visible,
        )
        return Response(self.get_serializer(group).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        group = self.get_object()
        serializer = self.get_serializer(group, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "cycle" in data and data["cycle"].pk != group.cycle_id:
            raise drf_error(DjangoValidationError({"cycle": [_("考核组创建后不能更换考核周期。")]}))
        group = _run(
            lambda: inputs.group_save(
                user=request.user,
                cycle=group.cycle,
                group=group,
                name=data.get("name", group.name),
                is_third_party=data.get("is_third_party", group.is_third_party),
                members=list(data["members"]) if "members" in data else list(group.members.all()),
                units=list(data["units"]) if "units" in data else list(group.units.all()),
            ),
            check=self._visible,
        )
        return Response(self.get_serializer(AssessorGroup.objects.get(pk=group.pk)).data)


class GroupField(serializers.PrimaryKeyRelatedField):
    """A group the caller may see (jurisdiction or membership); others are answered like unknown ids."""

    def get_queryset(self):
        request = self.context.get("request")
        return GroupQuerysetMixin().group_queryset(request.user if request else None)


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


class ScoreFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")

    class Meta:
        model = AssessorScore
        fields = ["under", "cycle", "group", "indicator"]


class AssessorScoreViewSet(InputViewSet):
    """考核组评分: POST a group's 0–100 score of a qualitative indicator for a unit (201); POSTing
    the same group, unit and indicator again re-scores it (200). Refused once the cycle is finalised."""

    queryset = AssessorScore.objects.select_related("unit", "scored_by")
    serializer_class = AssessorScoreSerializer
    filterset_class = ScoreFilterSet
    ordering_fields = ["region_code", "indicator", "scored_at"]
    default_capability = "assessment.score"

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row, created = _run(
            lambda: inputs.score_record(
                user=request.user,
                group=data["group"],
                unit=data["unit"],
                indicator=data["indicator"],
                score=data["score"],
                note=data.get("note", ""),
            ),
            check=self._visible,
        )
        return Response(
            self.get_serializer(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


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


class ScoreReviewViewSet(InputViewSet):
    """评分审核: accept a spread over 15 points (or fewer than two groups), or mark an assessed
    indicator not applicable for a unit. Committee staff above the unit; POSTing the same
    decision again replaces its reason."""

    queryset = ScoreReview.objects.select_related("unit", "reviewer").order_by("-reviewed_at", "pk")
    serializer_class = ScoreReviewSerializer
    filterset_fields = ["cycle", "indicator", "kind"]
    default_capability = "assessment.review"

    create_service = staticmethod(inputs.review_record)


# --- Veto rulings ----------------------------------------------------------------------------------------


class VetoRulingSerializer(serializers.ModelSerializer):
    unit = _unit_field()
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    evidence = serializers.FileField(write_only=True, required=False)
    has_evidence = serializers.SerializerMethodField()
    recorded_by = serializers.StringRelatedField(read_only=True)
    appeal_deadline = serializers.SerializerMethodField(
        help_text=_("申诉期限：裁定后第15个工作日（列表中不计算，为 null）。")
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
        return timezone.localtime(inputs.appeal_deadline(obj)).date()


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


class VetoFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    status = django_filters.ChoiceFilter(choices=RulingStatus.choices)

    class Meta:
        model = VetoRuling
        fields = ["under", "status", "indicator"]


class VetoRulingViewSet(InputViewSet):
    """一票否决裁定 (V01, V02, V03, V05; V04 is computed). Committee staff above the unit record a
    ruling with evidence (multipart); the unit's own staff appeal within 15 working days; the
    committee upholds or revokes with a note."""

    queryset = VetoRuling.objects.select_related("unit", "recorded_by")
    serializer_class = VetoRulingSerializer
    filterset_class = VetoFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering_fields = ["occurred_on", "recorded_at"]
    action_capabilities = {"create": "assessment.rule", "appeal": "assessment.respond", "decide": "assessment.rule"}

    create_service = staticmethod(inputs.veto_record)

    @extend_schema(request=AppealSerializer, responses={200: VetoRulingSerializer})
    @action(detail=True, methods=["post"])
    def appeal(self, request, pk=None):
        """申诉 by the unit's own staff (status in_force → appealed)."""
        return self._step(
            request, AppealSerializer,
            lambda ruling, data: inputs.veto_appeal(user=request.user, ruling=ruling, reason=data["appeal_reason"]),
        )  # fmt: skip

    @extend_schema(request=VetoDecisionSerializer, responses={200: VetoRulingSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """申诉处理: uphold (appealed → upheld) or revoke (appealed → revoked), with a note."""
        return self._step(
            request, VetoDecisionSerializer,
            lambda ruling, data: inputs.veto_decide(
                user=request.user, ruling=ruling, decision=data["result"], note=data["decision_note"]
            ),
        )  # fmt: skip

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=PassthroughNegotiation)
    def evidence(self, request, pk=None):
        """The evidence file (404 outside the jurisdiction)."""
        return _download(self.get_object().evidence)


# --- Innovation awards -----------------------------------------------------------------------------------


class InnovationAwardSerializer(serializers.ModelSerializer):
    unit = _unit_field()
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    awarded_by = serializers.StringRelatedField(read_only=True)
    points = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=0,
        max_value=3,
        error_messages={
            "required": _("请填写加分。"),
            "invalid": _("请填写数字。"),
            "min_value": _("创新加分应在0到3分之间。"),
            "max_value": _("创新加分应在0到3分之间。"),
            "max_digits": _("创新加分应在0到3分之间。"),
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


class AwardFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")

    class Meta:
        model = InnovationAward
        fields = ["under", "year"]


class InnovationAwardViewSet(InputViewSet):
    """创新加分: 0–3 points per unit and year by committee staff above the unit. POSTing the same
    unit and year again (or PATCH) changes it, until the year-end cycle is finalised."""

    queryset = InnovationAward.objects.select_related("unit", "awarded_by").order_by("-year", "region_code")
    serializer_class = InnovationAwardSerializer
    filterset_class = AwardFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    default_capability = "assessment.award"

    def _award(self, **data):
        award, created = _run(lambda: inputs.award_record(user=self.request.user, **data), check=self._visible)
        return Response(
            self.get_serializer(award).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._award(**serializer.validated_data)

    def partial_update(self, request, *args, **kwargs):
        award = self.get_object()
        serializer = self.get_serializer(award, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("unit", award.unit) != award.unit or data.get("year", award.year) != award.year:
            raise drf_error(DjangoValidationError({"unit": [_("不能更换单位或年度；请另行评定。")]}))
        return self._award(
            unit=award.unit,
            year=award.year,
            points=data.get("points", award.points),
            reason=data.get("reason", award.reason),
        )


# --- Tolerance claims ------------------------------------------------------------------------------------


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


class ClaimFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    status = django_filters.ChoiceFilter(choices=ClaimStatus.choices)

    class Meta:
        model = ToleranceClaim
        fields = ["under", "cycle", "status"]


class ToleranceClaimViewSet(InputViewSet):
    """容错申请: the unit's own staff claim tolerance for one indicator per cycle, with reasons and
    evidence (multipart), before the cycle is finalised; an assessor covering the unit or
    committee staff above it approves or rejects."""

    queryset = ToleranceClaim.objects.select_related("unit", "claimed_by", "decided_by").order_by("-claimed_at", "pk")
    serializer_class = ToleranceClaimSerializer
    filterset_class = ClaimFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_capabilities = {"create": "assessment.respond", "decide": "assessment.decide_claim"}

    create_service = staticmethod(inputs.claim_file)

    @extend_schema(request=ClaimDecisionSerializer, responses={200: ToleranceClaimSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """批准 (pending → approved) or 不予批准 (pending → rejected, with a note)."""
        return self._step(
            request, ClaimDecisionSerializer,
            lambda claim, data: inputs.claim_decide(
                user=request.user, claim=claim, approve=data["result"] == "approve", note=data.get("decision_note", "")
            ),
        )  # fmt: skip

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=PassthroughNegotiation)
    def evidence(self, request, pk=None):
        return _download(self.get_object().evidence)


# --- Rectification ---------------------------------------------------------------------------------------


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
        return inputs.rectification_overdue(obj)

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence)


class RectificationReportSerializer(serializers.Serializer):
    report = serializers.CharField(
        max_length=8000, error_messages={"required": _("请填写整改报告。"), "blank": _("请填写整改报告。")}
    )
    evidence = serializers.FileField(required=False, help_text=_("整改佐证材料（照片、PDF或Word，不超过10MB）。"))


class RectificationReturnSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=500, error_messages={"required": _("请填写退回理由。"), "blank": _("请填写退回理由。")}
    )


class RectificationFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    status = django_filters.ChoiceFilter(choices=RectificationStatus.choices)

    class Meta:
        model = RectificationItem
        fields = ["under", "cycle", "status", "indicator", "recurring"]


class RectificationItemViewSet(StepMixin, ScopedReadOnlyViewSet):
    """整改台账 (opened by the engine when a cycle is finalised): the unit's staff report, an
    assessor covering the unit closes (销号) or returns it."""

    queryset = RectificationItem.objects.select_related("unit", "closed_by", "cycle__root")
    serializer_class = RectificationItemSerializer
    filterset_class = RectificationFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering_fields = ["due_on", "region_code", "indicator"]
    view_capability = READ
    action_capabilities = {
        "report": "assessment.respond",
        "close": "assessment.recheck",
        "return_": "assessment.recheck",
    }

    @property
    def change_capability(self) -> str | None:
        return self.action_capabilities.get(self.action)

    @extend_schema(request=RectificationReportSerializer, responses={200: RectificationItemSerializer})
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        """整改报告 (open → reported), optionally with an evidence file (multipart)."""
        return self._step(
            request, RectificationReportSerializer,
            lambda item, data: inputs.rectification_report(
                user=request.user, item=item, report=data["report"], evidence=data.get("evidence")
            ),
        )  # fmt: skip

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=PassthroughNegotiation)
    def evidence(self, request, pk=None):
        """The rectification report's evidence file."""
        return _download(self.get_object().evidence)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=PassthroughNegotiation)
    def notice(self, request, pk=None):
        """整改通知书 (PDF) of the item's unit, issued with the cycle's publication."""
        from ..reports import notice_for

        item = self.get_object()
        return pdf_response(notice_for(item.cycle, item.unit), f"notice-{item.cycle_id}-{item.region_code}.pdf")

    @extend_schema(request=None, responses={200: RectificationItemSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """复查销号 (reported → closed, closed_on today)."""
        return self._step(request, None, lambda item, data: inputs.rectification_close(user=request.user, item=item))

    @extend_schema(request=RectificationReturnSerializer, responses={200: RectificationItemSerializer})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """退回 (reported → open), with the reason (kept in the audit trail)."""
        return self._step(
            request, RectificationReturnSerializer,
            lambda item, data: inputs.rectification_return(user=request.user, item=item, note=data["note"]),
        )  # fmt: skip


ROUTES = [
    ("monthly-reports", MonthlyReportViewSet, "assessment-monthly-report"),
    ("surveys", SurveyResponseViewSet, "assessment-survey"),
    ("assessor-groups", AssessorGroupViewSet, "assessment-assessor-group"),
    ("assessor-scores", AssessorScoreViewSet, "assessment-assessor-score"),
    ("score-reviews", ScoreReviewViewSet, "assessment-score-review"),
    ("veto-rulings", VetoRulingViewSet, "assessment-veto-ruling"),
    ("innovation-awards", InnovationAwardViewSet, "assessment-innovation-award"),
    ("tolerance-claims", ToleranceClaimViewSet, "assessment-tolerance-claim"),
    ("rectifications", RectificationItemViewSet, "assessment-rectification"),
]
