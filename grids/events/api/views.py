"""/api/v1/events/ (网格事件) and /api/v1/visits/ (走访记录).

Reads are limited to the caller's jurisdiction by ScopedModelViewSet (anything outside
answers 404, including transitions, attachments and downloads). Writes go through
grids.events.services.events only: POST /events/ files an event (idempotent by client_uuid),
and each transition of grids/transitions.py is a POST action named after it
(/events/{id}/department-accept/ …); the state machine decides who may do what.
"""

from __future__ import annotations

import inspect
import uuid

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from governance import personal_data
from governance.api.base import ListDetailMixin, ScopedModelViewSet, file_action
from governance.files import stored_file_response
from grids.events.api.serializers import (
    AttachmentUploadSerializer,
    EventAttachmentSerializer,
    EventDetailSerializer,
    EventFiledSerializer,
    EventFileSerializer,
    EventHistorySerializer,
    EventSerializer,
    RevealContactSerializer,
    TransitionSerializer,
    VisitRecordSerializer,
    duplicate_visit_message,
)
from grids.events.choices import OPEN_STATUSES
from grids.events.filtersets import EventFilterSet
from grids.events.models import EventAttachment, EventDispatch, EventHistory, GridEvent, VisitRecord
from grids.events.services.events import (
    TRANSITION_SERVICES,
    event_attach,
    event_file,
    transition,
)
from grids.events.transitions import TRANSITIONS, plays_a_part

# Text inputs a transition service may take, read from the request body when it takes them.
TEXT_INPUTS = ("reason", "note", "resolution", "feedback")


def drf_error(exc: DjangoValidationError, *, detail_from_messages: bool = False) -> ValidationError:
    """A service's ValidationError as DRF's, so the API answers {"detail", "fields"}.

    With `detail_from_messages` the messages also form the detail (refused transitions say why).
    """
    if hasattr(exc, "error_dict"):
        fields = {
            ("non_field_errors" if key == NON_FIELD_ERRORS else key): messages
            for key, messages in exc.message_dict.items()
        }
        if detail_from_messages and "non_field_errors" not in fields:
            fields["non_field_errors"] = [" ".join(m for messages in fields.values() for m in messages)]
        return ValidationError(fields)
    return ValidationError({"non_field_errors": exc.messages})


# Transition names that are a Python keyword or a view method (`dispatch`!) get a trailing underscore.
RESERVED_NAMES = frozenset({"return", "dispatch"})


def _transition_action(name: str):
    """One POST action per transition of the state machine, e.g. /events/{id}/self-handle/."""
    label = TRANSITIONS[name].label
    attribute = f"{name}_" if name in RESERVED_NAMES else name

    def view(self, request, pk=None):
        return self.run_transition(request, name)

    view.__name__ = attribute
    view.__doc__ = f"{label}（{name}）: see grids/transitions.py for who may do it from which state."
    view = action(detail=True, methods=["post"], url_path=name.replace("_", "-"), url_name=name.replace("_", "-"))(view)
    return extend_schema(
        summary=str(label),
        request=TransitionSerializer,
        responses={
            200: EventDetailSerializer,
            400: OpenApiResponse(description=gettext_lazy("操作被拒绝：detail 说明原因")),
        },
    )(view)


def with_detail(queryset):
    """The detail's related rows in three queries, whatever their number."""
    return queryset.prefetch_related(
        Prefetch("history", queryset=EventHistory.objects.select_related("actor")),
        "attachments",
        Prefetch("dispatches", queryset=EventDispatch.objects.select_related("department")),
    )


class EventViewSet(ListDetailMixin, ScopedModelViewSet):
    """网格事件 of the caller's jurisdiction: file (idempotent by client_uuid), list, filter, read,
    move through the state machine, attach files. Events are never edited or deleted directly."""

    queryset = GridEvent.objects.select_related("category", "region", "lead_department", "reporter")
    serializer_class = EventSerializer
    detail_serializer_class = EventDetailSerializer
    with_detail = staticmethod(with_detail)
    filterset_class = EventFilterSet
    ordering_fields = ["id", "reported_at", "respond_deadline", "resolve_deadline", "urgency", "status"]
    http_method_names = ["get", "post", "head", "options"]

    @property
    def change_capability(self) -> str:
        """Which role capability a POST needs; the state machine and scoping decide the rest."""
        if self.action == "create":
            return "event.file"
        if self.action == "attachments":
            return "event.file"
        if self.action == "reveal_contact":
            return "event.reveal_contact"
        return "event.handle"

    def _detail(self, event: GridEvent) -> dict:
        """The event as the detail shows it, read again through the caller's scope."""
        event = with_detail(self.get_queryset()).get(pk=event.pk)
        return EventDetailSerializer(event, context=self.get_serializer_context()).data

    # --- filing --------------------------------------------------------------------------

    @extend_schema(
        request=EventFileSerializer,
        responses={
            201: OpenApiResponse(EventFiledSerializer, description=gettext_lazy("事件已登记；详情见 url。")),
            200: OpenApiResponse(
                EventFiledSerializer, description=gettext_lazy("该客户端编号的事件已存在，返回原事件。")
            ),
        },
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[201, 200],
                description=gettext_lazy("事件详情地址"),
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        """File an event. Re-sending the same client_uuid returns the existing event (200). Either answer is
        the compact EventFiled body with a Location header; GET the URL for the detail."""
        serializer = EventFileSerializer(data=request.data, context=self.get_serializer_context())
        if not serializer.is_valid():
            # A resend whose body no longer validates (a category retired since) still finds its event.
            existing = self._visible_by_client_uuid(request.data.get("client_uuid"))
            if existing is None:
                raise ValidationError(serializer.errors)
            return self._filed(existing, created=False)
        try:
            event, created = event_file(
                reporter=request.user, **serializer.validated_data, check_written=self._check_still_visible
            )
            if not created:
                self._check_still_visible(event)
        except DjangoValidationError as exc:
            raise drf_error(exc) from exc
        return self._filed(event, created=created)

    def _filed(self, event: GridEvent, *, created: bool) -> Response:
        body = EventFiledSerializer(event, context=self.get_serializer_context()).data
        return Response(
            body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK, headers={"Location": body["url"]}
        )

    def _visible_by_client_uuid(self, value) -> GridEvent | None:
        try:
            key = uuid.UUID(str(value))
        except (TypeError, ValueError):
            return None
        return self.get_queryset().filter(client_uuid=key).first()

    # --- the state machine ---------------------------------------------------------------

    def run_transition(self, request, name: str) -> Response:
        event = self.get_object()
        body = TransitionSerializer(data=request.data, context={**self.get_serializer_context(), "event": event})
        body.is_valid(raise_exception=True)
        try:
            event = transition(name, event=event, user=request.user, **self._inputs(name, body.validated_data))
        except DjangoValidationError as exc:
            raise drf_error(exc, detail_from_messages=True) from exc
        return Response(self._detail(event))

    @staticmethod
    def _inputs(name: str, data: dict) -> dict:
        """The keyword arguments the transition's service takes, from the validated body."""
        parameters = inspect.signature(TRANSITION_SERVICES[name]).parameters
        kwargs = {field: data.get(field, "") for field in TEXT_INPUTS if field in parameters}
        if "lead" in parameters:
            if data.get("lead") is None:
                raise ValidationError({"non_field_errors": [_("请选择牵头部门。")], "lead": [_("请选择牵头部门。")]})
            kwargs["lead"] = data["lead"]
            kwargs["collaborators"] = data.get("collaborators", [])
        if "into" in parameters:
            if data.get("into") is None:
                raise ValidationError(
                    {"non_field_errors": [_("请选择合并目标事件。")], "into": [_("请选择合并目标事件。")]}
                )
            kwargs["into"] = data["into"]
        if "organisation" in parameters:
            missing = {
                field: [message]
                for field, message in (("organisation", _("请选择调解组织。")), ("dispute_type", _("请选择纠纷类型。")))
                if not data.get(field)
            }
            if missing:
                raise ValidationError(missing)
            kwargs["organisation"], kwargs["dispute_type"] = data["organisation"], data["dispute_type"]
        return kwargs

    accept = _transition_action("accept")
    return_ = _transition_action("return")
    self_handle = _transition_action("self_handle")
    dispatch_ = _transition_action("dispatch")
    department_accept = _transition_action("department_accept")
    department_return = _transition_action("department_return")
    escalate = _transition_action("escalate")
    resolve = _transition_action("resolve")
    verify = _transition_action("verify")
    reopen = _transition_action("reopen")
    feedback = _transition_action("feedback")
    close = _transition_action("close")
    merge = _transition_action("merge")
    convert = _transition_action("convert")

    # --- history, attachments, personal data ---------------------------------------------

    @extend_schema(responses=EventHistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """流转记录: every transition, attributed and timestamped."""
        event = self.get_object()
        entries = EventHistory.objects.filter(event=event).select_related("actor")
        return Response(EventHistorySerializer(entries, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        methods=["GET"],
        responses=EventAttachmentSerializer(many=True),
    )
    @extend_schema(methods=["POST"], request=AttachmentUploadSerializer, responses={201: EventAttachmentSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request, pk=None):
        """Photos and files of the event; POST (multipart: file, stage) adds one."""
        event = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            return Response(EventAttachmentSerializer(event.attachments.all(), many=True, context=context).data)
        if event.status not in OPEN_STATUSES:
            raise PermissionDenied(_("事件已结束，不能再上传附件。"))
        if event.reporter_id != request.user.pk and not plays_a_part(request.user, event):
            raise PermissionDenied(_("您无权为该事件上传附件。"))
        body = AttachmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            attachment = event_attach(
                event=event, upload=body.validated_data["file"], stage=body.validated_data["stage"], user=request.user
            )
        except DjangoValidationError as exc:
            raise drf_error(exc) from exc
        return Response(EventAttachmentSerializer(attachment, context=context).data, status=status.HTTP_201_CREATED)

    @file_action(url_path=r"attachments/(?P<att_id>[0-9]+)/download", url_name="attachment-download")
    def attachment_download(self, request, pk=None, att_id=None):
        """The file itself, only inside the event's jurisdiction (404 otherwise)."""
        event = self.get_object()
        attachment = get_object_or_404(EventAttachment.objects.restrict(request.user), event=event, pk=att_id)
        return stored_file_response(
            attachment.file,
            filename=attachment.original_name,
            content_type=attachment.content_type,
            attachment=not attachment.is_image,
        )

    @extend_schema(
        request=RevealContactSerializer,
        responses={200: {"type": "object", "properties": {"contact_phone": {"type": "string"}}}},
    )
    @action(detail=True, methods=["post"], url_path="reveal-contact")
    def reveal_contact(self, request, pk=None):
        """The unmasked contact phone (centre and committee staff); every read is audited."""
        event = self.get_object()
        body = RevealContactSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        phone = personal_data.reveal(
            instance=event,
            field="contact_phone",
            value=event.contact_phone,
            user=request.user,
            reason=body.validated_data["reason"],
        )
        return Response({"contact_phone": phone})


class VisitRecordViewSet(ScopedModelViewSet):
    """走访记录: grid workers log their visits to the grids in their jurisdiction; one record per
    worker, grid and day. Everyone sees the records of their jurisdiction."""

    queryset = VisitRecord.objects.select_related("grid", "worker")
    serializer_class = VisitRecordSerializer
    change_capability = "visit.record"
    filterset_fields = {"grid__code": ["exact"], "worker__username": ["exact"], "date": ["exact", "gte", "lte"]}
    ordering_fields = ["date", "households_visited", "id"]

    def create(self, request, *args, **kwargs):
        """Record a visit. Re-sending the same client_uuid returns the saved record (200)."""
        resent = self._resent(request.data.get("client_uuid"))
        if resent is not None:
            return Response(self.get_serializer(resent).data, status=status.HTTP_200_OK)
        try:
            return super().create(request, *args, **kwargs)
        except ValidationError:
            resent = self._resent(request.data.get("client_uuid"))  # the same visit sent twice at once
            if resent is None:
                raise
            return Response(self.get_serializer(resent).data, status=status.HTTP_200_OK)

    def _resent(self, value) -> VisitRecord | None:
        try:
            key = uuid.UUID(str(value))
        except (TypeError, ValueError):
            return None
        return self.get_queryset().filter(client_uuid=key, worker=self.request.user).first()

    def perform_create(self, serializer):
        try:
            with transaction.atomic():
                instance = serializer.save(worker=self.request.user)
                self._check_still_visible(instance)
        except IntegrityError as exc:  # the same visit sent twice at once, or another's client id
            key = serializer.validated_data.get("client_uuid")
            if key and VisitRecord.objects.filter(client_uuid=key).exclude(worker=self.request.user).exists():
                raise ValidationError({"client_uuid": [_("该客户端编号已被使用。")]}) from exc
            raise ValidationError({"date": [duplicate_visit_message()]}) from exc

    def perform_update(self, serializer):
        if serializer.instance.worker_id != self.request.user.pk:
            raise PermissionDenied(_("只能修改本人的走访记录。"))
        try:
            super().perform_update(serializer)
        except IntegrityError as exc:
            raise ValidationError({"date": [duplicate_visit_message()]}) from exc
