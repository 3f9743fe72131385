"""/api/v1/assessment/{appeals,flags}/ — after the scores (SPEC §5.4).

Appeals (申诉): the unit's own staff file one (multipart, with the evidence file) on one
indicator line of a published cycle; committee staff above the unit decide. The rules live in
assessment.services.appeals; refusals answer {"detail", "fields"}. Flags (智能预警): read-only, scoped
like every record; `?cycle=` lists a cycle's flags through the public selector, and a flag's
detail lists the records behind it that the caller may see.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from governance.api.base import ScopedReadOnlyViewSet, file_action
from governance.files import stored_file_response

from ...filtersets import AppealFilterSet, FlagFilterSet
from ...models import CredibilityFlag, ScoreAppeal
from ...selectors.flags import flag_records
from ...services import appeals
from ..serializers.after_scores import AppealDecisionSerializer, FlagSerializer, ScoreAppealSerializer
from .base import InputViewSet


class ScoreAppealViewSet(InputViewSet):
    """考核申诉: filed by the unit's own staff within 15 working days of the cycle's publication
    (multipart with `evidence`); decided by committee staff above the unit within 10 working
    days. An upheld appeal re-computes the cycle with the adjusted 得分率."""

    queryset = ScoreAppeal.objects.select_related("unit", "filed_by", "decided_by").order_by("-filed_at", "pk")
    serializer_class = ScoreAppealSerializer
    filterset_class = AppealFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_capabilities = {"create": "assessment.respond", "decide": "assessment.rule"}

    create_service = staticmethod(appeals.appeal_file)

    @extend_schema(request=AppealDecisionSerializer, responses={200: ScoreAppealSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """申诉处理: uphold with `adjusted_percent`, or dismiss; both with `decision_note`."""
        return self._step(
            request, AppealDecisionSerializer,
            lambda appeal, data: appeals.appeal_decide(
                user=request.user, appeal=appeal, uphold=data["result"] == "uphold",
                note=data["decision_note"], adjusted_percent=data.get("adjusted_percent"),
            ),
        )  # fmt: skip

    @file_action()
    def evidence(self, request, pk=None):
        return stored_file_response(self.get_object().evidence)


class CredibilityFlagViewSet(ScopedReadOnlyViewSet):
    """智能预警: data-credibility flags of the caller's jurisdiction (they never change a score).
    The detail lists the records behind the flag that the caller may open."""

    queryset = CredibilityFlag.objects.select_related("region")
    serializer_class = FlagSerializer
    filterset_class = FlagFilterSet
    ordering_fields = ["first", "region_code", "rule"]

    def retrieve(self, request, *args, **kwargs):
        flag = self.get_object()
        data = FlagSerializer(flag).data
        data["record_rows"] = [row["raw"] for row in flag_records(flag, request.user)]
        return Response(data)


ROUTES = [
    ("appeals", ScoreAppealViewSet, "assessment-appeal"),
    ("flags", CredibilityFlagViewSet, "assessment-flag"),
]
