"""Serializers of /api/v1/disputes/.

Cases are written only through disputes.services (registration, parties, the named transitions
and the records that keep the state); these serializers validate the input of those services
and render cases for reading. Parties' ID numbers and phones are never decrypted here: lists
and details show the stored masked forms, and the plain values come only from the audited
`reveal` action.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from governance.api.fields import ChoiceLabelField, ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from governance.api.serializers import CLOCK_SCHEMA, AllowedActionsMixin
from governance.choices import Role
from governance.i18n import lazy_message
from governance.models import Department
from governance.uploads import UploadSerializerField
from grids.models import Region

from ..choices import (
    ConfirmationDecision,
    DisputeType,
    Fulfilment,
    OrgKind,
    PartyKind,
    PartySide,
    Referral,
    RiskLevel,
    Satisfaction,
)
from ..lifecycle import case_clock_state
from ..models import (
    Agreement,
    Case,
    CaseHistory,
    FollowUp,
    JudicialConfirmation,
    MediationOrganisation,
    MediationSession,
    Party,
)
from ..services import REPEAT_WINDOW_DAYS, earlier_cases_of_same_parties
from ..transitions import CASES, TRANSITIONS
from ..validators import validate_citizen_id, validate_credit_code, validate_mobile

# History actions that are not transitions of the table.
EXTRA_ACTION_LABELS = {
    "register": _("登记"),
    "session": _("记录调解"),
    "follow_up": _("履行回访"),
    "confirmation_apply": _("申请司法确认"),
    "confirmation_decide": _("司法确认结果"),
}


def action_label(name: str) -> str:
    if name in TRANSITIONS:
        return str(TRANSITIONS[name].label)
    return str(EXTRA_ACTION_LABELS.get(name, name))


# --- Organisations ---------------------------------------------------------------------------


class MediationOrganisationSerializer(serializers.ModelSerializer):
    region = ScopedSlugRelatedField(slug_field="code", queryset=Region.objects.all())
    region_name = serializers.CharField(source="region.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    department = ScopedPrimaryKeyRelatedField(queryset=Department.objects.all(), allow_null=True, required=False)
    host = ScopedPrimaryKeyRelatedField(
        queryset=MediationOrganisation.objects.filter(kind=OrgKind.ONE_STOP), allow_null=True, required=False
    )

    class Meta:
        model = MediationOrganisation
        fields = [
            "id",
            "region",
            "region_name",
            "kind",
            "kind_display",
            "name",
            "trade",
            "department",
            "host",
            "is_active",
        ]
        validators: list = []  # the unique (region, name) rule is checked below, as a field error in Chinese

    def validate(self, attrs):
        region = attrs.get("region", getattr(self.instance, "region", None))
        name = attrs.get("name", getattr(self.instance, "name", None))
        host = attrs.get("host", getattr(self.instance, "host", None))
        duplicate = MediationOrganisation.objects.filter(region=region, name=name)
        if self.instance is not None:
            duplicate = duplicate.exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise serializers.ValidationError({"name": [_("该区划下已有同名调解组织。")]})
        if host is not None and (
            host.pk == getattr(self.instance, "pk", None) or not region.code.startswith(host.region.code)
        ):
            raise serializers.ValidationError({"host": [_("只能入驻本级或上级区划的矛盾纠纷多元化解中心。")]})
        return attrs


# --- Reading cases ---------------------------------------------------------------------------


class PartySerializer(serializers.ModelSerializer):
    """A party as every role sees it: ID number and phone masked, never decrypted."""

    side_display = serializers.CharField(source="get_side_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Party
        fields = [
            "id",
            "side",
            "side_display",
            "kind",
            "kind_display",
            "name",
            "id_number_masked",
            "phone_masked",
            "credit_code",
            "legal_representative",
            "address",
        ]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = MediationSession
        fields = ["id", "held_on", "place", "attendees", "notes", "file_url", "recorded_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_file_url(self, session: MediationSession) -> str | None:
        if not session.file:
            return None
        return reverse(
            "mediation-case-session-file",
            kwargs={"pk": session.case_id, "session_id": session.pk},
            request=self.context.get("request"),
        )


class AgreementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agreement
        fields = ["terms", "amount", "signed_on", "performance_deadline"]
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    fulfilment_display = serializers.CharField(source="get_fulfilment_display", read_only=True)
    satisfaction_display = serializers.CharField(source="get_satisfaction_display", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "visited_on",
            "fulfilment",
            "fulfilment_display",
            "satisfaction",
            "satisfaction_display",
            "notes",
            "recorded_by",
        ]
        read_only_fields = fields


class ConfirmationSerializer(serializers.ModelSerializer):
    decision_display = serializers.CharField(source="get_decision_display", read_only=True)

    class Meta:
        model = JudicialConfirmation
        fields = ["court", "applied_on", "deadline", "decided_on", "decision", "decision_display"]
        read_only_fields = fields


class CaseHistorySerializer(serializers.ModelSerializer):
    action_display = serializers.SerializerMethodField()
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseHistory
        fields = ["id", "at", "actor", "actor_name", "action", "action_display", "from_status", "to_status", "note"]
        read_only_fields = fields

    def get_action_display(self, entry: CaseHistory) -> str:
        return action_label(entry.action)


class CaseSerializer(AllowedActionsMixin, serializers.ModelSerializer):
    """A case as listed: every field from the row and its select_related joins, nothing per row."""

    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    origin_region = serializers.CharField(source="origin_region.code", read_only=True)
    origin_region_name = serializers.CharField(source="origin_region.name", read_only=True)
    dispute_type_display = ChoiceLabelField(source="dispute_type")
    risk_level_display = ChoiceLabelField(source="risk_level")
    status_display = ChoiceLabelField(source="status")
    mediator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    mediator_name = serializers.CharField(source="mediator.display_name", read_only=True, default=None)
    clock = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    transitions = CASES

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "organisation",
            "organisation_name",
            "region_code",
            "origin_region",
            "origin_region_name",
            "origin_event",
            "dispute_type",
            "dispute_type_display",
            "risk_level",
            "risk_level_display",
            "people_involved",
            "largest_side",
            "is_mass",
            "title",
            "facts",
            "status",
            "status_display",
            "mediator",
            "mediator_name",
            "registered_at",
            "accepted_at",
            "concluded_at",
            "closed_at",
            "conclusion_deadline",
            "decline_reason",
            "failure_reason",
            "referral",
            "clock",
            "is_repeat",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(CLOCK_SCHEMA)
    def get_clock(self, case: Case) -> str:
        return case_clock_state(case, self.context.get("now"))


class CaseDetailSerializer(CaseSerializer):
    """The detail adds the case's records; `earlier_cases` only for committee staff (政法委)."""

    parties = PartySerializer(many=True, read_only=True)
    sessions = SessionSerializer(many=True, read_only=True)
    agreement = serializers.SerializerMethodField()
    follow_ups = FollowUpSerializer(many=True, read_only=True)
    confirmation = serializers.SerializerMethodField()
    history = CaseHistorySerializer(many=True, read_only=True)
    earlier_cases = serializers.SerializerMethodField(
        help_text=lazy_message(
            gettext_noop("同一当事人在此前%(days)s天内的其他案件号（仅政法委，且限于其管辖范围）"),
            days=REPEAT_WINDOW_DAYS,
        )
    )

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "parties",
            "sessions",
            "agreement",
            "follow_ups",
            "confirmation",
            "history",
            "earlier_cases",
        ]
        read_only_fields = fields

    @extend_schema_field(AgreementSerializer(allow_null=True))
    def get_agreement(self, case: Case):
        agreement = getattr(case, "agreement", None)
        return AgreementSerializer(agreement).data if agreement else None

    @extend_schema_field(ConfirmationSerializer(allow_null=True))
    def get_confirmation(self, case: Case):
        confirmation = getattr(case, "confirmation", None)
        return ConfirmationSerializer(confirmation).data if confirmation else None

    def _viewer(self):
        request = self.context.get("request")
        return request.user if request else None

    def get_earlier_cases(self, case: Case) -> list[str]:
        viewer = self._viewer()
        if not case.is_repeat:
            return []
        return list(
            earlier_cases_of_same_parties(case, viewer).order_by("registered_at").values_list("number", flat=True)
        )

    def to_representation(self, case):
        viewer = self._viewer()
        if getattr(viewer, "role", None) == Role.COMMITTEE_STAFF:
            return super().to_representation(case)
        # Nobody else learns which other case lies behind a repeat flag: the field is left out.
        field = self.fields.pop("earlier_cases", None)
        try:
            return super().to_representation(case)
        finally:
            if field is not None:
                self.fields["earlier_cases"] = field


# --- Writing ---------------------------------------------------------------------------------


class PartyInputSerializer(serializers.Serializer):
    """The input of party_add. The numbers are checked here too, so a registration with several
    parties answers every party's errors at once; disputes.services.party_add stays the authority."""

    side = serializers.ChoiceField(choices=PartySide.choices)
    kind = serializers.ChoiceField(choices=PartyKind.choices, default=PartyKind.PERSON)
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    legal_representative = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", help_text=_("组织的法定代表人或负责人")
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        errors = {}
        checks = [("phone", validate_mobile)]
        if attrs["kind"] == PartyKind.PERSON:
            checks.append(("id_number", validate_citizen_id))
        else:
            checks.append(("credit_code", validate_credit_code))
            if not attrs["credit_code"]:
                errors["credit_code"] = [_("请填写统一社会信用代码。")]
        for field, check in checks:
            if attrs[field] and field not in errors:
                try:
                    attrs[field] = check(attrs[field])
                except DjangoValidationError as exc:
                    errors[field] = exc.messages
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CaseRegisterSerializer(serializers.Serializer):
    """The input of case_register; `client_uuid` makes a re-sent registration return the first case."""

    client_uuid = serializers.UUIDField(required=False, help_text=_("客户端生成的编号：重发时返回已登记的案件。"))
    organisation = ScopedPrimaryKeyRelatedField(queryset=MediationOrganisation.objects.filter(is_active=True))
    origin_region = ScopedSlugRelatedField(
        slug_field="code",
        queryset=Region.objects.all(),
        help_text=_("纠纷发生地（乡镇、村或网格）的区划代码。"),
    )
    dispute_type = serializers.ChoiceField(choices=DisputeType.choices)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, default=RiskLevel.GENERAL)
    people_involved = serializers.IntegerField(min_value=1, max_value=100000, default=2)
    largest_side = serializers.IntegerField(min_value=1, max_value=100000, default=1)
    title = serializers.CharField(max_length=100)
    facts = serializers.CharField(max_length=4000)
    parties = PartyInputSerializer(many=True, required=False, default=list)


class AcceptSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AssignSerializer(serializers.Serializer):
    mediator = serializers.IntegerField(help_text=_("本调解组织调解员的用户ID"))


class AgreeSerializer(serializers.Serializer):
    terms = serializers.CharField(max_length=8000, required=False, allow_blank=True, default="")
    signed_on = serializers.DateField()
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    performance_deadline = serializers.DateField(required=False, allow_null=True, default=None)


class TransferSerializer(serializers.Serializer):
    to = serializers.IntegerField(help_text=_("上级区划调解组织的ID"))
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReferSerializer(serializers.Serializer):
    referral = serializers.ChoiceField(choices=Referral.choices, required=False, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SessionInputSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    place = serializers.CharField(max_length=100)
    attendees = serializers.CharField(max_length=300)
    notes = serializers.CharField(max_length=4000)
    file = UploadSerializerField(required=False, allow_null=True, default=None)


class FollowUpInputSerializer(serializers.Serializer):
    visited_on = serializers.DateField()
    fulfilment = serializers.ChoiceField(choices=Fulfilment.choices)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ConfirmationApplySerializer(serializers.Serializer):
    court = serializers.CharField(max_length=100)
    applied_on = serializers.DateField()


class ConfirmationDecideSerializer(serializers.Serializer):
    decided_on = serializers.DateField()
    decision = serializers.ChoiceField(choices=ConfirmationDecision.choices)


class RevealSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- Converting a grid event (grids.events.conversion) ---------------------------------------------------


def convert_api_fields() -> dict[str, serializers.Field]:
    """What an event's transition body accepts for 转矛盾纠纷 (POST /events/<id>/convert/)."""
    return {
        "organisation": ScopedPrimaryKeyRelatedField(
            queryset=MediationOrganisation.objects.filter(is_active=True),
            required=False,
            help_text=_("转矛盾纠纷：调解组织ID"),
        ),
        "dispute_type": serializers.ChoiceField(
            choices=DisputeType.choices, required=False, help_text=_("转矛盾纠纷：纠纷类型")
        ),
    }
