"""/api/v1/assessment/…: the assessment's inputs (SPEC §5.2–§5.4).

Every viewset reads through `restrict(user)` (outside the jurisdiction: 404) and writes only
through assessment.services, whose refusals come back as {"detail", "fields"} with Chinese
field messages. Submissions that a client may retry are idempotent: POSTing a monthly table,
a score, a review or an award that already exists updates it (200) instead of duplicating it
(201 on first creation).

    monthly-reports     核心指标表: list, read, submit (POST) and correct (PATCH/PUT) until the deadline
    surveys             问卷答卷: list; POST an offline household answer; GET sample/ for an evaluator
    assessor-groups     考核组: list, create, change
    assessor-scores     考核组评分: list; POST scores (again: re-scores)
    score-reviews       评分审核: list; POST accept_spread / not_applicable
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from governance.codes import Level
from grids.events.api.views import drf_error
from grids.models import Region

from ... import selectors, services
from ...filtersets import MonthlyReportFilterSet, ScoreFilterSet, SurveyFilterSet
from ...models import (
    REPORT_VALUE_FIELDS,
    AssessorGroup,
    AssessorScore,
    MonthlyReport,
    ScoreReview,
    SurveyResponse,
)
from ..serializers.inputs import (
    AssessorGroupSerializer,
    AssessorScoreSerializer,
    MonthlyReportSerializer,
    OfflineSurveySerializer,
    ScoreReviewSerializer,
    SurveyResponseSerializer,
)
from .base import InputViewSet, _run


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
            lambda: services.report_submit(user=self.request.user, township=township, month=month, values=values),
            check=self._visible,
        )
        body = self.get_serializer(report).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses={201: MonthlyReportSerializer, 200: MonthlyReportSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        values = {name: data.get(name) for name in REPORT_VALUE_FIELDS}
        return self._submit(township=data["township"], month=data["month"], values=values)

    def update(self, request, *args, **kwargs):
        report = self.get_object()
        serializer = self.get_serializer(report, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        values = {name: serializer.validated_data.get(name, getattr(report, name)) for name in REPORT_VALUE_FIELDS}
        return self._submit(township=report.township, month=report.month, values=values)


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
        response, created = _run(lambda: services.survey_record_offline(user=request.user, **data), check=self._visible)
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
        round_no = _int(request.query_params.get("round"), services.round_of(today))
        if round_no not in services.SURVEY_ROUNDS:
            raise drf_error(DjangoValidationError({"round": [_("轮次只能是1（上半年）或2（下半年）。")]}))
        sample = services.survey_sample(village, year, round_no)
        keys = {services.offline_key(village.code, year, round_no, h.number): h for h in sample}
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


class AssessorGroupViewSet(InputViewSet):
    """考核组 (assessors and the units they score in a cycle). Formed by staff at or above the
    cycle's root; an assessor also sees the groups they belong to."""

    queryset = AssessorGroup.objects.select_related("cycle").prefetch_related("members", "units")
    serializer_class = AssessorGroupSerializer
    filterset_fields = ["cycle"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    default_capability = "assessment.group"

    def get_queryset(self):
        user = self.request.user
        return self.queryset.filter(pk__in=selectors.visible_groups(user).values("pk")).order_by("cycle", "name")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        group = _run(
            lambda: services.group_save(
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
            lambda: services.group_save(
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
            lambda: services.score_record(
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


class ScoreReviewViewSet(InputViewSet):
    """评分审核: accept a spread over 15 points (or fewer than two groups), or mark an assessed
    indicator not applicable for a unit. Committee staff above the unit; POSTing the same
    decision again replaces its reason."""

    queryset = ScoreReview.objects.select_related("unit", "reviewer").order_by("-reviewed_at", "pk")
    serializer_class = ScoreReviewSerializer
    filterset_fields = ["cycle", "indicator", "kind"]
    default_capability = "assessment.review"

    create_service = staticmethod(services.review_record)


ROUTES = [
    ("monthly-reports", MonthlyReportViewSet, "assessment-monthly-report"),
    ("surveys", SurveyResponseViewSet, "assessment-survey"),
    ("assessor-groups", AssessorGroupViewSet, "assessment-assessor-group"),
    ("assessor-scores", AssessorScoreViewSet, "assessment-assessor-score"),
    ("score-reviews", ScoreReviewViewSet, "assessment-score-review"),
]
