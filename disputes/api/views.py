"""/api/v1/disputes/organisations/ (调解组织) and /api/v1/disputes/cases/ (矛盾纠纷案件).

Reads are limited to the caller's jurisdiction by the scoped viewsets (a mediator sees only the
cases of their own organisation; anything outside answers 404, actions included). Cases are
written only through disputes.services: POST /cases/ registers a case with its parties
(idempotent by client_uuid), each transition of disputes/transitions.py is a POST action named
after it (/cases/{id}/accept/ …), and sessions, follow-ups and judicial confirmation have their
own actions. Who may act on a case is disputes.services.may_act; the state machine says when.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from governance import personal_data
from governance.api.base import ListDetailMixin, ScopedModelViewSet, file_action
from governance.choices import Role
from governance.files import stored_file_response
from governance.models import User
from grids.events.api.views import drf_error

from .. import services
from ..choices import OPEN_CASE_STATUSES
from ..filtersets import CaseFilterSet, MediationOrganisationFilterSet
from ..models import Case, CaseHistory, MediationOrganisation, MediationSession, Party
from ..selectors import with_detail, with_list_rows
from ..transitions import TRANSITIONS
from .serializers import (
    AcceptSerializer,
    AgreeSerializer,
    AssignSerializer,
    CaseDetailSerializer,
    CaseHistorySerializer,
    CaseRegisterSerializer,
    CaseSerializer,
    ConfirmationApplySerializer,
    ConfirmationDecideSerializer,
    ConfirmationSerializer,
    FollowUpInputSerializer,
    FollowUpSerializer,
    MediationOrganisationSerializer,
    PartyInputSerializer,
    PartySerializer,
    ReasonSerializer,
    ReferSerializer,
    RevealSerializer,
    SessionInputSerializer,
    SessionSerializer,
    TransferSerializer,
)

# The body each transition reads.
TRANSITION_INPUTS = {
    "accept": AcceptSerializer,
    "decline": ReasonSerializer,
    "assign": AssignSerializer,
    "agree": AgreeSerializer,
    "fail": ReasonSerializer,
    "transfer": TransferSerializer,
    "refer": ReferSerializer,
    "close": AcceptSerializer,
}

# Actions that change a case without a role capability of their own: who may act is may_act.
CASE_WORK_ACTIONS = frozenset(
    {*TRANSITIONS, "parties", "sessions", "follow_ups", "confirmation", "confirmation_decide"}
)


class MediationOrganisationViewSet(ScopedModelViewSet):
    """调解组织 of the caller's jurisdiction; changed by centre staff and administrators, never deleted
    (deactivate instead)."""

    queryset = MediationOrganisation.objects.select_related("region")
    filterset_class = MediationOrganisationFilterSet
    change_capability = "mediation_org.change"
    ordering_fields = ["name", "kind", "region__code"]

    serializer_class = MediationOrganisationSerializer


def _transition_action(name: str):
    """One POST action per transition of the state machine, e.g. /cases/{id}/accept/."""
    label = TRANSITIONS[name].label

    def view(self, request, pk=None):
        return self.run_transition(request, name)

    view.__name__ = name
    view.__doc__ = f"{label}（{name}）: see disputes/transitions.py for who may do it from which state."
    view = action(detail=True, methods=["post"], url_path=name, url_name=name)(view)
    return extend_schema(
        summary=str(label),
        request=TRANSITION_INPUTS[name],
        responses={
            200: CaseDetailSerializer,
            400: OpenApiResponse(description=gettext_lazy("操作被拒绝：detail 说明原因")),
            403: OpenApiResponse(description=gettext_lazy("无权办理该案件")),
        },
    )(view)


def _flatten_party_errors(errors: dict) -> dict:
    """Nested party errors as flat fields: {"parties[0].id_number": [...]}; an error of the list as
    a whole (not a list, …) stays under "parties"."""
    parties = errors.pop("parties", None)
    if isinstance(parties, list) and all(isinstance(item, dict) for item in parties):
        parties = dict(enumerate(parties))
    if isinstance(parties, dict) and all(str(index).isdigit() for index in parties):
        for index, item in parties.items():
            for field, messages in (item or {}).items():
                key = "" if field == "non_field_errors" else f".{field}"
                errors[f"parties[{index}]{key}"] = messages
    elif parties is not None:
        errors["parties"] = parties
    return errors


class CaseViewSet(ListDetailMixin, ScopedModelViewSet):
    """矛盾纠纷案件 of the caller's jurisdiction (a mediator: of their organisation): register with
    parties (idempotent by client_uuid), list, filter, read, move through the state machine, log
    sessions, follow-ups and judicial confirmation. Cases are never edited or deleted directly."""

    queryset = with_list_rows(Case.objects.all())
    serializer_class = CaseSerializer
    detail_serializer_class = CaseDetailSerializer
    with_detail = staticmethod(with_detail)
    filterset_class = CaseFilterSet
    ordering_fields = ["id", "registered_at", "accepted_at", "conclusion_deadline", "risk_level", "status"]
    http_method_names = ["get", "post", "head", "options"]

    @property
    def change_capability(self) -> str | None:
        if self.action == "create":
            return "case.register"
        if self.action == "reveal":
            return "case.reveal_party"
        return None

    def get_permissions(self):
        if self.action in CASE_WORK_ACTIONS:
            return [IsAuthenticated()]
        return super().get_permissions()

    def _detail(self, case: Case) -> dict:
        """The case as the detail shows it, read again through the caller's scope. After a transfer
        away from the caller's organisation only the summary they just acted on is returned."""
        visible = with_detail(self.get_queryset()).filter(pk=case.pk).first()
        if visible is None:
            return CaseSerializer(case, context=self.get_serializer_context()).data
        return CaseDetailSerializer(visible, context=self.get_serializer_context()).data

    def _case_to_work_on(self) -> Case:
        """The case (404 outside the caller's scope), if the caller may act on it (403 otherwise)."""
        case = self.get_object()
        if not services.may_act(self.request.user, case):
            raise PermissionDenied(_("您无权办理该案件。"))
        return case

    def _work(self, request, body_class, service):
        """A step on a case the caller may act on: the body checked by `body_class`, then
        `service(case=..., user=..., **body)`; a refusal answers 400 and says why."""
        case = self._case_to_work_on()
        data = self._body(body_class, request)
        try:
            return service(case=case, user=request.user, **data)
        except DjangoValidationError as exc:
            raise drf_error(exc, detail_from_messages=True) from exc

    @staticmethod
    def _body(serializer_class, request, **kwargs) -> dict:
        body = serializer_class(data=request.data, **kwargs)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    # --- registration --------------------------------------------------------------------

    @extend_schema(
        request=CaseRegisterSerializer,
        responses={
            201: CaseDetailSerializer,
            200: OpenApiResponse(
                CaseDetailSerializer, description=gettext_lazy("该客户端编号的案件已登记，返回原案件。")
            ),
            400: OpenApiResponse(
                description=gettext_lazy(
                    '字段错误；当事人的错误以 "parties[序号].字段" 为键，如 "parties[0].id_number"'
                )
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """登记 a case with its parties. Re-sending the same client_uuid returns the registered case (200).

        Errors of the nested parties are flat fields: `parties[0].id_number`, `parties[1].phone` …
        """
        body = CaseRegisterSerializer(data=request.data, context=self.get_serializer_context())
        if not body.is_valid():
            raise ValidationError(_flatten_party_errors(dict(body.errors)))
        data = dict(body.validated_data)
        client_uuid = data.pop("client_uuid", None)
        created = True
        try:
            with transaction.atomic():
                if client_uuid is None:
                    case = services.case_register(user=request.user, **data)
                else:
                    case, created = services.case_register_once(client_uuid=client_uuid, user=request.user, **data)
                self._check_still_visible(case)
        except DjangoValidationError as exc:
            raise drf_error(exc) from exc
        return Response(self._detail(case), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    # --- the state machine ---------------------------------------------------------------

    def run_transition(self, request, name: str) -> Response:
        case = self._case_to_work_on()
        data = self._body(TRANSITION_INPUTS[name], request)
        if name == "assign":
            data["mediator"] = self._mediator_of(case, data["mediator"])
        elif name == "transfer":
            data["to"] = self._organisation_above(case, data["to"])
        try:
            case = services.transition(name, case=case, user=request.user, **data)
        except DjangoValidationError as exc:
            raise drf_error(exc, detail_from_messages=True) from exc
        return Response(self._detail(case))

    @staticmethod
    def _mediator_of(case: Case, pk: int) -> User:
        """Only the case organisation's mediators can be named; any other id answers alike."""
        mediator = User.objects.filter(
            pk=pk, role=Role.MEDIATOR, mediation_org_id=case.organisation_id, is_active=True
        ).first()
        if mediator is None:
            message = _("请选择本调解组织的调解员。")
            raise ValidationError({"non_field_errors": [message], "mediator": [message]})
        return mediator

    @staticmethod
    def _organisation_above(case: Case, pk: int) -> MediationOrganisation:
        """Only an organisation of a region above the case's can receive it; any other id answers alike."""
        organisation = MediationOrganisation.objects.select_related("region").filter(pk=pk, is_active=True).first()
        if organisation is None or not case.region_code.startswith(organisation.region.code):
            message = _("只能移交给上级区划的调解组织。")
            raise ValidationError({"non_field_errors": [message], "to": [message]})
        return organisation

    accept = _transition_action("accept")
    decline = _transition_action("decline")
    assign = _transition_action("assign")
    agree = _transition_action("agree")
    fail = _transition_action("fail")
    transfer = _transition_action("transfer")
    refer = _transition_action("refer")
    close = _transition_action("close")

    # --- parties ---------------------------------------------------------------------------

    @extend_schema(request=PartyInputSerializer, responses={201: PartySerializer})
    @action(detail=True, methods=["post"])
    def parties(self, request, pk=None):
        """Add a party (当事人) while the case is open; the answer shows the numbers masked."""
        case = self._case_to_work_on()
        if case.status not in OPEN_CASE_STATUSES:
            raise ValidationError(
                {
                    "non_field_errors": [
                        _("案件当前状态为“%(status)s”，不能添加当事人。") % {"status": case.get_status_display()}
                    ]
                }
            )
        data = self._body(PartyInputSerializer, request)
        try:
            party = services.party_add(case=case, user=request.user, **data)
        except DjangoValidationError as exc:
            raise drf_error(exc) from exc
        return Response(PartySerializer(party).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RevealSerializer,
        responses={
            200: {"type": "object", "properties": {"id_number": {"type": "string"}, "phone": {"type": "string"}}},
            403: OpenApiResponse(description=gettext_lazy("无权查看完整号码")),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"parties/(?P<party_id>[0-9]+)/reveal", url_name="party-reveal")
    def reveal(self, request, pk=None, party_id=None):
        """The party's full ID number and phone (the organisation's mediators and centre staff);
        every field read is an audit entry."""
        case = self._case_to_work_on()
        party = get_object_or_404(Party.objects.filter(case=case), pk=party_id)
        reason = self._body(RevealSerializer, request)["reason"]
        with transaction.atomic():
            values = {
                field: personal_data.reveal(
                    instance=party, field=field, value=getattr(party, field), user=request.user, reason=reason
                )
                if getattr(party, field)
                else ""
                for field in ("id_number", "phone")
            }
        return Response(values)

    # --- records that keep the state -----------------------------------------------------

    @extend_schema(methods=["GET"], responses=SessionSerializer(many=True))
    @extend_schema(methods=["POST"], request=SessionInputSerializer, responses={201: SessionSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    def sessions(self, request, pk=None):
        """调解记录; POST (JSON, or multipart with an optional file) logs one while mediating."""
        context = self.get_serializer_context()
        if request.method == "GET":
            case = self.get_object()
            entries = case.sessions.select_related("recorded_by")
            return Response(SessionSerializer(entries, many=True, context=context).data)
        session = self._work(request, SessionInputSerializer, services.session_log)
        return Response(SessionSerializer(session, context=context).data, status=status.HTTP_201_CREATED)

    @file_action(url_path=r"sessions/(?P<session_id>[0-9]+)/file", url_name="session-file")
    def session_file(self, request, pk=None, session_id=None):
        """A session's file, only inside the case's jurisdiction (404 otherwise)."""
        case = self.get_object()
        session = get_object_or_404(MediationSession.objects.filter(case=case).exclude(file=""), pk=session_id)
        return stored_file_response(session.file)

    @extend_schema(methods=["GET"], responses=FollowUpSerializer(many=True))
    @extend_schema(methods=["POST"], request=FollowUpInputSerializer, responses={201: FollowUpSerializer})
    @action(detail=True, methods=["get", "post"], url_path="follow-ups", url_name="follow-ups")
    def follow_ups(self, request, pk=None):
        """履行回访; POST records one while the agreement is being fulfilled."""
        if request.method == "GET":
            case = self.get_object()
            return Response(FollowUpSerializer(case.follow_ups.select_related("recorded_by"), many=True).data)
        follow_up = self._work(request, FollowUpInputSerializer, services.follow_up_record)
        return Response(FollowUpSerializer(follow_up).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConfirmationApplySerializer, responses={201: ConfirmationSerializer})
    @action(detail=True, methods=["post"])
    def confirmation(self, request, pk=None):
        """申请司法确认: the court must decide within 7 working days of the application."""
        confirmation = self._work(request, ConfirmationApplySerializer, services.confirmation_apply)
        return Response(ConfirmationSerializer(confirmation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConfirmationDecideSerializer, responses={200: ConfirmationSerializer})
    @action(detail=True, methods=["post"], url_path="confirmation/decide", url_name="confirmation-decide")
    def confirmation_decide(self, request, pk=None):
        """登记司法确认结果 (the court's decision)."""
        confirmation = self._work(request, ConfirmationDecideSerializer, services.confirmation_decide)
        return Response(ConfirmationSerializer(confirmation).data)

    @extend_schema(responses=CaseHistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """流转记录: every step, attributed and timestamped."""
        case = self.get_object()
        entries = CaseHistory.objects.filter(case=case).select_related("actor")
        return Response(CaseHistorySerializer(entries, many=True).data)
