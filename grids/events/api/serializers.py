"""Serializers of /api/v1/events/ and /api/v1/visits/.

Events are written only through grids.events.services.events (filing and the named transitions);
these serializers validate the input of those services and render events for reading.
The contact phone is never rendered in plain text: lists and details show it masked, and
the unmasked value is returned only by the audited `reveal_contact` action.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from governance import personal_data
from governance.api.fields import ChoiceLabelField, ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from governance.api.serializers import CLOCK_SCHEMA, AllowedActionsMixin
from governance.choices import Role
from governance.codes import Level
from governance.models import Department
from grids.events.choices import AttachmentStage, EventSource, EventStatus, Feedback, Urgency
from grids.events.conversion import conversion
from grids.events.models import (
    EventAttachment,
    EventCategory,
    EventDispatch,
    EventHistory,
    GridEvent,
    VisitRecord,
)
from grids.events.selectors import dispatch_departments
from grids.events.sla import event_clocks
from grids.events.transitions import EVENTS, TRANSITIONS
from grids.models import Region

phone_validator = RegexValidator(r"^\+?[0-9][0-9 \-]{4,19}$", _("请输入有效的联系电话（数字，可含空格或短横线）。"))

# History actions that are not transitions of the table.
EXTRA_ACTION_LABELS = {"report": _("上报"), "absorb": _("并入重复事件")}

# Roles whose events come from their own patrol when they do not name a source.
PATROL_ROLES = (Role.GRID_WORKER, Role.GRID_LEADER)


def action_label(name: str) -> str:
    if name in TRANSITIONS:
        return str(TRANSITIONS[name].label)
    return str(EXTRA_ACTION_LABELS.get(name, name))


def masked_phone(event: GridEvent) -> str:
    """The stored (encrypted) phone, decrypted only to be masked."""
    try:
        return personal_data.mask_phone(personal_data.decrypt(event.contact_phone))
    except ValueError:  # a key no longer configured: show that something is there, nothing more
        return "*******"


# --- Reading ---------------------------------------------------------------------------------


class EventHistorySerializer(serializers.ModelSerializer):
    action_display = serializers.SerializerMethodField()
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)

    class Meta:
        model = EventHistory
        fields = ["id", "at", "actor", "actor_name", "action", "action_display", "from_status", "to_status", "note"]

    def get_action_display(self, entry: EventHistory) -> str:
        return action_label(entry.action)


class EventAttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = EventAttachment
        fields = ["id", "name", "content_type", "size", "stage", "uploaded_at", "download_url"]

    def get_download_url(self, attachment: EventAttachment) -> str:
        return reverse(
            "event-attachment-download",
            kwargs={"pk": attachment.event_id, "att_id": attachment.pk},
            request=self.context.get("request"),
        )


class EventDispatchSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = EventDispatch
        fields = [
            "id",
            "department",
            "department_name",
            "role",
            "state",
            "dispatched_at",
            "answered_at",
            "return_reason",
        ]


class EventSerializer(AllowedActionsMixin, serializers.ModelSerializer):
    """An event as listed: every field from the row and its select_related joins, nothing per row."""

    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    region = serializers.CharField(source="region_code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    reporter = serializers.SlugRelatedField(slug_field="username", read_only=True)
    contact_phone = serializers.SerializerMethodField()
    status_display = ChoiceLabelField(source="status")
    urgency_display = ChoiceLabelField(source="urgency")
    handling_level = serializers.IntegerField(read_only=True, help_text=_("1省 2市 3县 4乡镇 5村 6网格"))
    resolved_level = serializers.IntegerField(read_only=True, allow_null=True, help_text=_("化解层级，同上"))
    lead_department_name = serializers.CharField(source="lead_department.name", read_only=True, default=None)
    clocks = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    transitions = EVENTS

    class Meta:
        model = GridEvent
        fields = [
            "id",
            "client_uuid",
            "category",
            "category_name",
            "title",
            "description",
            "urgency",
            "urgency_display",
            "source",
            "region",
            "region_name",
            "address",
            "lat",
            "lng",
            "reporter",
            "reporter_name",
            "contact_phone",
            "status",
            "status_display",
            "handling_level",
            "lead_department",
            "lead_department_name",
            "self_handled",
            "resolved_level",
            "resolution",
            "return_reason",
            "feedback",
            "feedback_note",
            "duplicate_of",
            "merged_into",
            "reported_at",
            "responded_at",
            "resolved_at",
            "verified_at",
            "feedback_at",
            "closed_at",
            "respond_deadline",
            "resolve_deadline",
            "feedback_deadline",
            "clocks",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_contact_phone(self, event: GridEvent) -> str:
        return masked_phone(event)

    @extend_schema_field(
        {
            "type": "object",
            "properties": dict.fromkeys(("respond", "resolve", "feedback"), CLOCK_SCHEMA),
        }
    )
    def get_clocks(self, event: GridEvent) -> dict[str, str]:
        return event_clocks(event, self.context.get("now"))


class EventDetailSerializer(EventSerializer):
    history = EventHistorySerializer(many=True, read_only=True)
    attachments = EventAttachmentSerializer(many=True, read_only=True)
    dispatches = EventDispatchSerializer(many=True, read_only=True)
    mediation_case = serializers.SerializerMethodField(help_text=_("转矛盾纠纷后登记的案件号"))

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "history", "attachments", "dispatches", "mediation_case"]
        read_only_fields = fields

    def get_mediation_case(self, event) -> str | None:
        linked = conversion().linked(event)
        return linked.number if linked else None


# --- Writing ---------------------------------------------------------------------------------


class EventFileSerializer(serializers.Serializer):
    """The input of event_file; re-sending the same client_uuid returns the existing event."""

    client_uuid = serializers.UUIDField(required=False, help_text=_("客户端生成的编号：重发时返回已有事件。"))
    category = serializers.SlugRelatedField(slug_field="code", queryset=EventCategory.objects.all())
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=4000)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    source = serializers.ChoiceField(choices=EventSource.choices, required=False)
    region = ScopedSlugRelatedField(
        slug_field="code",
        queryset=Region.objects.filter(level__in=[Level.VILLAGE, Level.GRID]),
        help_text=_("事件所在网格（或村、社区）的区划代码。"),
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    lat = serializers.FloatField(
        required=False, allow_null=True, default=None, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    lng = serializers.FloatField(
        required=False, allow_null=True, default=None, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    reporter_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", validators=[phone_validator]
    )

    def validate(self, attrs):
        if (attrs["lat"] is None) != (attrs["lng"] is None):
            raise serializers.ValidationError({"lng": [_("经纬度须同时填写。")]})
        if not attrs.get("source"):
            user = self.context["request"].user
            if getattr(user, "role", None) in PATROL_ROLES:
                attrs["source"] = EventSource.PATROL
            else:
                raise serializers.ValidationError({"source": [_("请选择事件来源。")]})
        return attrs


class EventFiledSerializer(serializers.Serializer):
    """The answer to a filing (201, or 200 for a resend): the id to act on, the client UUID sent, the
    status, a likely duplicate if one was found, and the detail's URL (also the Location header).
    A plain Serializer: a ModelSerializer would inspect the model again on every filing."""

    id = serializers.IntegerField(read_only=True)
    client_uuid = serializers.UUIDField(read_only=True, label=_("客户端编号"))
    status = serializers.ChoiceField(choices=EventStatus.choices, read_only=True, label=_("状态"))
    duplicate_of = serializers.IntegerField(
        source="duplicate_of_id", read_only=True, allow_null=True, label=_("疑似重复")
    )
    reported_at = serializers.DateTimeField(read_only=True, label=_("上报时间"))
    url = serializers.HyperlinkedIdentityField(view_name="event-detail", help_text=_("事件详情地址"))


class DispatchDepartmentField(serializers.PrimaryKeyRelatedField):
    """A department the event in the context may be dispatched to; any other id is answered
    like one that does not exist."""

    def get_queryset(self):
        request, event = self.context.get("request"), self.context.get("event")
        if request is None or event is None:
            return Department.objects.none()
        return dispatch_departments(event=event, user=request.user)


class TransitionSerializer(serializers.Serializer):
    """The body of a transition action; each transition reads the fields it needs."""

    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    resolution = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    feedback = serializers.ChoiceField(choices=Feedback.choices, required=False)
    lead = DispatchDepartmentField(queryset=Department.objects.none(), required=False, help_text=_("牵头部门ID"))
    collaborators = serializers.ListField(
        child=DispatchDepartmentField(queryset=Department.objects.none()),
        required=False,
        help_text=_("协办部门ID列表"),
    )
    into = ScopedPrimaryKeyRelatedField(queryset=GridEvent.objects.all(), required=False, help_text=_("合并目标事件ID"))

    def get_fields(self):
        """The fields above, and what a conversion needs (organisation, dispute_type), declared by the
        app that takes converted events (grids.events.conversion)."""
        return {**super().get_fields(), **conversion().api_fields()}


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    stage = serializers.ChoiceField(choices=AttachmentStage.choices, default=AttachmentStage.REPORT)


class RevealContactSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- Visits ----------------------------------------------------------------------------------


class VisitRecordSerializer(serializers.ModelSerializer):
    grid = ScopedSlugRelatedField(slug_field="code", queryset=Region.objects.grids())
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    worker = serializers.SlugRelatedField(slug_field="username", read_only=True)
    client_uuid = serializers.UUIDField(
        required=False, allow_null=True, help_text=_("客户端生成的编号：重发时返回已保存的记录（200）。")
    )

    class Meta:
        model = VisitRecord
        fields = [
            "id", "grid", "grid_name", "worker", "date", "households_visited", "notes", "created_at", "client_uuid",
        ]  # fmt: skip
        read_only_fields = ["created_at"]
        validators: list = []  # the unique (worker, grid, date) rule is checked below, in Chinese

    def validate_date(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("走访日期不能晚于今天。"))
        return value

    def validate(self, attrs):
        worker = self.instance.worker if self.instance else self.context["request"].user
        grid = attrs.get("grid", getattr(self.instance, "grid", None))
        date = attrs.get("date", getattr(self.instance, "date", None))
        duplicate = VisitRecord.objects.filter(worker=worker, grid=grid, date=date)
        if self.instance is not None:
            duplicate = duplicate.exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise serializers.ValidationError({"date": [duplicate_visit_message()]})
        return attrs


def duplicate_visit_message() -> str:
    return str(_("您当天已记录过该网格的走访，请修改原记录。"))
