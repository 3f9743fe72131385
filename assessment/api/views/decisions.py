"""/api/v1/assessment/…: the inputs decided about one unit that move through steps (SPEC §5.3–§5.4);
what a user may do to each now is assessment.transitions'.

    veto-rulings        一票否决: list, read, record; POST appeal/ and decide/; GET evidence/
    innovation-awards   创新加分: list, read, award (POST again or PATCH: change)
    tolerance-claims    容错申请: list, read, claim; POST decide/; GET evidence/
    rectifications      整改台账: list, read; POST report/, close/, return/
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from governance.api.base import ScopedReadOnlyViewSet, file_action
from governance.files import pdf_response, stored_file_response
from grids.events.api.views import drf_error

from ... import services
from ...filtersets import AwardFilterSet, ClaimFilterSet, RectificationFilterSet, VetoFilterSet
from ...models import (
    InnovationAward,
    RectificationItem,
    ToleranceClaim,
    VetoRuling,
)
from ..serializers.inputs import (
    AppealSerializer,
    ClaimDecisionSerializer,
    InnovationAwardSerializer,
    RectificationItemSerializer,
    RectificationReportSerializer,
    RectificationReturnSerializer,
    ToleranceClaimSerializer,
    VetoDecisionSerializer,
    VetoRulingSerializer,
)
from .base import READ, InputViewSet, StepMixin, _run


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

    create_service = staticmethod(services.veto_record)

    @extend_schema(request=AppealSerializer, responses={200: VetoRulingSerializer})
    @action(detail=True, methods=["post"])
    def appeal(self, request, pk=None):
        """申诉 by the unit's own staff (status in_force → appealed)."""
        return self._step(
            request, AppealSerializer,
            lambda ruling, data: services.veto_appeal(user=request.user, ruling=ruling, reason=data["appeal_reason"]),
        )  # fmt: skip

    @extend_schema(request=VetoDecisionSerializer, responses={200: VetoRulingSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """申诉处理: uphold (appealed → upheld) or revoke (appealed → revoked), with a note."""
        return self._step(
            request, VetoDecisionSerializer,
            lambda ruling, data: services.veto_decide(
                user=request.user, ruling=ruling, decision=data["result"], note=data["decision_note"]
            ),
        )  # fmt: skip

    @file_action()
    def evidence(self, request, pk=None):
        """The evidence file (404 outside the jurisdiction)."""
        return stored_file_response(self.get_object().evidence)


class InnovationAwardViewSet(InputViewSet):
    """创新加分: 0–3 points per unit and year by committee staff above the unit. POSTing the same
    unit and year again (or PATCH) changes it, until the year-end cycle is finalised."""

    queryset = InnovationAward.objects.select_related("unit", "awarded_by").order_by("-year", "region_code")
    serializer_class = InnovationAwardSerializer
    filterset_class = AwardFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    default_capability = "assessment.award"

    def _award(self, **data):
        award, created = _run(lambda: services.award_record(user=self.request.user, **data), check=self._visible)
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


class ToleranceClaimViewSet(InputViewSet):
    """容错申请: the unit's own staff claim tolerance for one indicator per cycle, with reasons and
    evidence (multipart), before the cycle is finalised; an assessor covering the unit or
    committee staff above it approves or rejects."""

    queryset = ToleranceClaim.objects.select_related("unit", "claimed_by", "decided_by").order_by("-claimed_at", "pk")
    serializer_class = ToleranceClaimSerializer
    filterset_class = ClaimFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_capabilities = {"create": "assessment.respond", "decide": "assessment.decide_claim"}

    create_service = staticmethod(services.claim_file)

    @extend_schema(request=ClaimDecisionSerializer, responses={200: ToleranceClaimSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """批准 (pending → approved) or 不予批准 (pending → rejected, with a note)."""
        return self._step(
            request, ClaimDecisionSerializer,
            lambda claim, data: services.claim_decide(
                user=request.user, claim=claim, approve=data["result"] == "approve", note=data.get("decision_note", "")
            ),
        )  # fmt: skip

    @file_action()
    def evidence(self, request, pk=None):
        return stored_file_response(self.get_object().evidence)


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
            lambda item, data: services.rectification_report(
                user=request.user, item=item, report=data["report"], evidence=data.get("evidence")
            ),
        )  # fmt: skip

    @file_action()
    def evidence(self, request, pk=None):
        """The rectification report's evidence file."""
        return stored_file_response(self.get_object().evidence)

    @file_action("application/pdf")
    def notice(self, request, pk=None):
        """整改通知书 (PDF) of the item's unit, issued with the cycle's publication."""
        from ...services.reports import notice_for

        item = self.get_object()
        return pdf_response(notice_for(item.cycle, item.unit), f"notice-{item.cycle_id}-{item.region_code}.pdf")

    @extend_schema(request=None, responses={200: RectificationItemSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """复查销号 (reported → closed, closed_on today)."""
        return self._step(request, None, lambda item, data: services.rectification_close(user=request.user, item=item))

    @extend_schema(request=RectificationReturnSerializer, responses={200: RectificationItemSerializer})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """退回 (reported → open), with the reason (kept in the audit trail)."""
        return self._step(
            request, RectificationReturnSerializer,
            lambda item, data: services.rectification_return(user=request.user, item=item, note=data["note"]),
        )  # fmt: skip


ROUTES = [
    ("veto-rulings", VetoRulingViewSet, "assessment-veto-ruling"),
    ("innovation-awards", InnovationAwardViewSet, "assessment-innovation-award"),
    ("tolerance-claims", ToleranceClaimViewSet, "assessment-tolerance-claim"),
    ("rectifications", RectificationItemViewSet, "assessment-rectification"),
]
