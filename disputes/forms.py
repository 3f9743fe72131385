"""Forms of the case pages: registration, parties, the transition forms of the case page and
the records that keep the state (sessions, follow-ups, judicial confirmation). Labels and
messages are Chinese msgids; each form's `kwargs()` gives the service's keyword arguments."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from governance.choices import Role
from governance.codes import Level, ancestors
from governance.i18n import lazy_message
from governance.models import User
from governance.uploads import UploadField, upload_help
from grids.events.forms import EventFormMixin
from grids.models import Region

from .choices import (
    ConfirmationDecision,
    DisputeType,
    Fulfilment,
    PartyKind,
    PartySide,
    Referral,
    RiskLevel,
    Satisfaction,
)
from .models import Case, MediationOrganisation
from .services import MASS_THRESHOLD
from .validators import validate_citizen_id, validate_credit_code, validate_mobile

DATE_WIDGET = {"type": "date"}


def date_field(label, *, required: bool = True, initial_today: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=timezone.localdate if initial_today else None,
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        error_messages={"required": _("请填写日期。"), "invalid": _("请输入有效日期，例如2025-03-01。")},
    )


def _clean_id(value: str) -> str:
    value = (value or "").strip()
    return validate_citizen_id(value) if value else ""


def _clean_phone(value: str) -> str:
    value = (value or "").strip()
    return validate_mobile(value) if value else ""


def clean_party(form: forms.Form, prefix: str = "") -> None:
    """Check one party's numbers by its kind — a natural person's GB 11643 ID, an organisation's
    GB 32100 unified social credit code (required) — and drop the fields of the other kind."""
    cleaned = form.cleaned_data
    kind = cleaned.get(f"{prefix}kind") or PartyKind.PERSON
    cleaned[f"{prefix}kind"] = kind
    if kind == PartyKind.PERSON:
        field, check = f"{prefix}id_number", _clean_id
        cleaned[f"{prefix}credit_code"] = cleaned[f"{prefix}legal_representative"] = ""
    else:
        field, check = f"{prefix}credit_code", validate_credit_code
        cleaned[f"{prefix}id_number"] = ""
    try:
        cleaned[field] = check(cleaned.get(field) or "")
    except ValidationError as exc:
        form.add_error(field, exc)


def party_kind_field(label) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=PartyKind.choices,
        initial=PartyKind.PERSON,
        required=False,  # blank is a natural person, as before organisations were offered
        widget=forms.RadioSelect(attrs={"data-party-kind": ""}),
    )


def credit_code_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=18,
        required=False,
        help_text=_("法人或其他组织填写，18位。"),
        widget=forms.TextInput(attrs={"data-party-for": PartyKind.ORGANISATION, "autocapitalize": "characters"}),
    )


def legal_representative_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"data-party-for": PartyKind.ORGANISATION}),
    )


def id_number_field(label, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=18,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"data-party-for": PartyKind.PERSON}),
    )


def region_label(region: Region, top: int) -> str:
    return "\u3000" * max(region.level - top, 0) + region.name


# --- Registration ------------------------------------------------------------------------------


def organisations_for(user):
    orgs = MediationOrganisation.objects.restrict(user).filter(is_active=True).select_related("region")
    if not user.is_superuser and user.role == Role.MEDIATOR:
        orgs = orgs.filter(pk=user.mediation_org_id)
    return orgs.order_by("region__code", "name")


class CaseRegisterForm(EventFormMixin, forms.Form):
    """登记案件, with a first applicant and respondent (natural persons)."""

    organisation = forms.ModelChoiceField(
        queryset=MediationOrganisation.objects.none(),
        label=_("调解组织"),
        empty_label=_("请选择调解组织"),
        error_messages={"required": _("请选择调解组织。"), "invalid_choice": _("请选择辖区内的调解组织。")},
    )
    origin_region = forms.ModelChoiceField(
        queryset=Region.objects.none(),
        label=_("纠纷发生地"),
        empty_label=_("请选择乡镇、村（社区）或网格"),
        error_messages={
            "required": _("请选择纠纷发生地。"),
            "invalid_choice": _("请选择辖区内的乡镇、村（社区）或网格。"),
        },
    )
    dispute_type = forms.ChoiceField(
        label=_("纠纷类型"),
        choices=[("", _("请选择纠纷类型")), *DisputeType.choices],
        error_messages={"required": _("请选择纠纷类型。")},
    )
    risk_level = forms.TypedChoiceField(
        label=_("风险等级"), choices=RiskLevel.choices, coerce=int, initial=RiskLevel.GENERAL, widget=forms.RadioSelect
    )
    people_involved = forms.IntegerField(
        label=_("涉及人数"),
        min_value=1,
        max_value=100000,
        initial=2,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("请填写涉及人数。"),
            "invalid": _("人数应为整数。"),
            "min_value": _("人数至少为1。"),
        },
    )
    largest_side = forms.IntegerField(
        label=_("单方最多人数"),
        min_value=1,
        max_value=100000,
        initial=1,
        help_text=lazy_message(
            gettext_noop("一方达到%(n)s人及以上即为群体性纠纷，风险等级至少为“较大”。"), n=MASS_THRESHOLD
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("请填写单方最多人数。"),
            "invalid": _("人数应为整数。"),
            "min_value": _("人数至少为1。"),
        },
    )
    title = forms.CharField(
        label=_("案由"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("例如：楼上漏水引发的邻里纠纷")}),
        error_messages={"required": _("请填写案由。"), "max_length": _("案由最多100个字。")},
    )
    facts = forms.CharField(
        label=_("纠纷简要情况"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写纠纷简要情况。"), "max_length": _("最多4000个字。")},
    )
    applicant_kind = party_kind_field(_("申请人类别"))
    applicant_name = forms.CharField(
        label=_("申请人姓名或名称"), max_length=100, error_messages={"required": _("请填写申请人姓名或名称。")}
    )
    applicant_id_number = id_number_field(_("申请人公民身份号码"))
    applicant_credit_code = credit_code_field(_("申请人统一社会信用代码"))
    applicant_legal_representative = legal_representative_field(_("申请人法定代表人或负责人"))
    applicant_phone = forms.CharField(
        label=_("申请人手机号码"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    respondent_kind = party_kind_field(_("被申请人类别"))
    respondent_name = forms.CharField(
        label=_("被申请人姓名或名称"), max_length=100, error_messages={"required": _("请填写被申请人姓名或名称。")}
    )
    respondent_id_number = id_number_field(_("被申请人公民身份号码"))
    respondent_credit_code = credit_code_field(_("被申请人统一社会信用代码"))
    respondent_legal_representative = legal_representative_field(_("被申请人法定代表人或负责人"))
    respondent_phone = forms.CharField(
        label=_("被申请人手机号码"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )

    PARTY_FIELDS = ("applicant", "respondent")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        orgs = organisations_for(user)
        self.fields["organisation"].queryset = orgs
        self.fields["organisation"].label_from_instance = lambda o: f"{o.name}（{o.region.name}）"
        regions = Region.objects.restrict(user).filter(level__gte=Level.TOWNSHIP).order_by("code")
        top = min((r.level for r in regions[:1]), default=Level.TOWNSHIP)
        self.fields["origin_region"].queryset = regions
        self.fields["origin_region"].label_from_instance = lambda r: region_label(r, top)
        if not self.is_bound:
            first = list(orgs[:2])
            if len(first) == 1:
                self.fields["organisation"].initial = first[0].pk

    def clean_applicant_phone(self):
        return _clean_phone(self.cleaned_data.get("applicant_phone"))

    def clean_respondent_phone(self):
        return _clean_phone(self.cleaned_data.get("respondent_phone"))

    def clean(self):
        cleaned = super().clean()
        people, largest = cleaned.get("people_involved"), cleaned.get("largest_side")
        if people and largest and largest > people:
            self.add_error("largest_side", _("单方人数不能多于涉及总人数。"))
        for side in self.PARTY_FIELDS:
            clean_party(self, f"{side}_")
        return cleaned

    PARTY_DETAILS = ("kind", "name", "id_number", "credit_code", "legal_representative", "phone")

    def _side(self, side: str) -> list:
        """One party's fields in page order (the kind first), for disputes/_party_block.html."""
        return [self[f"{side}_{f}"] for f in self.PARTY_DETAILS]

    @property
    def applicant_fields(self) -> list:
        return self._side("applicant")

    @property
    def respondent_fields(self) -> list:
        return self._side("respondent")

    def parties(self) -> list[dict]:
        data = self.cleaned_data
        fields = [f for f in self.PARTY_DETAILS if f != "name"]
        return [
            {"side": side, "name": data[f"{side}_name"].strip(), **{f: data[f"{side}_{f}"] for f in fields}}
            for side in self.PARTY_FIELDS
        ]

    def kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "organisation": data["organisation"],
            "origin_region": data["origin_region"],
            "dispute_type": data["dispute_type"],
            "risk_level": data["risk_level"],
            "people_involved": data["people_involved"],
            "largest_side": data["largest_side"],
            "title": data["title"].strip(),
            "facts": data["facts"].strip(),
            "parties": self.parties(),
        }


# --- The case page's forms ------------------------------------------------------------------------


class CaseActionForm(EventFormMixin, forms.Form):
    """One step on the case page; `kwargs()` gives the service's keyword arguments."""

    has_file = False

    def __init__(self, *args, case: Case, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.user = case, user

    def kwargs(self) -> dict:
        return dict(self.cleaned_data)


class NoteForm(CaseActionForm):
    note = forms.CharField(
        label=_("说明（选填）"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(CaseActionForm):
    reason = forms.CharField(
        label=_("理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写理由。"), "max_length": _("理由最多300个字。")},
    )


class DeclineForm(ReasonForm):
    reason = forms.CharField(
        label=_("不予受理理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("例如：已进入诉讼程序")}),
        error_messages={"required": _("请填写不予受理的理由。"), "max_length": _("理由最多300个字。")},
    )


class FailForm(ReasonForm):
    reason = forms.CharField(
        label=_("调解不成原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请说明调解不成的原因。"), "max_length": _("最多300个字。")},
    )


class AssignForm(CaseActionForm):
    mediator = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label=_("调解员"),
        empty_label=_("请选择调解员"),
        error_messages={"required": _("请选择调解员。"), "invalid_choice": _("请选择本调解组织的调解员。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mediators = User.objects.filter(
            role=Role.MEDIATOR, mediation_org_id=self.case.organisation_id, is_active=True
        ).order_by("display_name", "username")
        self.fields["mediator"].queryset = mediators
        if (
            not self.is_bound
            and self.user.role == Role.MEDIATOR
            and self.user.mediation_org_id == self.case.organisation_id
        ):
            self.fields["mediator"].initial = self.user.pk


class AgreeForm(CaseActionForm):
    terms = forms.CharField(
        label=_("协议内容"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": _("双方达成的协议条款，逐条填写")}),
        error_messages={"required": _("请填写调解协议内容。"), "max_length": _("协议内容最多8000个字。")},
    )
    amount = forms.DecimalField(
        label=_("涉及金额（元，选填）"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        error_messages={
            "invalid": _("金额应为数字。"),
            "min_value": _("金额不能为负数。"),
            "max_decimal_places": _("金额最多保留两位小数。"),
            "max_digits": _("金额过大。"),
        },
    )
    signed_on = date_field(_("签订日期"), initial_today=True)
    performance_deadline = date_field(_("履行期限（选填）"), required=False)

    def clean_signed_on(self):
        day = self.cleaned_data["signed_on"]
        if day > timezone.localdate():
            raise ValidationError(_("签订日期不能晚于今天。"))
        return day


class TransferForm(ReasonForm):
    to = forms.ModelChoiceField(
        queryset=MediationOrganisation.objects.none(),
        label=_("移交至"),
        empty_label=_("请选择上级调解组织"),
        error_messages={"required": _("请选择接收的调解组织。"), "invalid_choice": _("只能移交给上级区划的调解组织。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = self.case.region_code
        self.fields["to"].queryset = (
            MediationOrganisation.objects.filter(is_active=True, region__code__in=ancestors(code))
            .select_related("region")
            .order_by("-region__code", "name")
        )
        self.fields["to"].label_from_instance = lambda o: f"{o.name}（{o.region.name}）"
        self.order_fields(["to", "reason"])


class ReferForm(NoteForm):
    referral = forms.ChoiceField(
        label=_("引导途径"),
        choices=Referral.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择引导途径。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["referral", "note"])


class PartyForm(CaseActionForm):
    side = forms.ChoiceField(label=_("身份"), choices=PartySide.choices, widget=forms.RadioSelect)
    kind = party_kind_field(_("类别"))
    name = forms.CharField(
        label=_("姓名或名称"), max_length=100, error_messages={"required": _("请填写当事人姓名或名称。")}
    )
    id_number = id_number_field(_("公民身份号码"), help_text=_("自然人填写，18位。"))
    credit_code = credit_code_field(_("统一社会信用代码"))
    legal_representative = legal_representative_field(_("法定代表人或负责人"))
    phone = forms.CharField(
        label=_("手机号码"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    address = forms.CharField(label=_("住址"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            has_applicant = self.case.parties.filter(side=PartySide.APPLICANT).exists()
            self.fields["side"].initial = PartySide.RESPONDENT if has_applicant else PartySide.APPLICANT

    def clean_phone(self):
        return _clean_phone(self.cleaned_data.get("phone"))

    def clean(self):
        cleaned = super().clean()
        clean_party(self)
        return cleaned


class SessionForm(CaseActionForm):
    has_file = True
    held_on = date_field(_("调解日期"), initial_today=True)
    place = forms.CharField(label=_("地点"), max_length=100, error_messages={"required": _("请填写调解地点。")})
    attendees = forms.CharField(label=_("参加人员"), max_length=300, error_messages={"required": _("请填写参加人员。")})
    notes = forms.CharField(
        label=_("调解情况"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写调解情况。"), "max_length": _("最多4000个字。")},
    )
    file = UploadField(
        label=_("附件（选填）"),
        required=False,
        help_text=upload_help(gettext_noop("调解笔录、现场照片等，不超过%(mb)sMB。")),
        error_messages={"invalid": _("请选择有效的文件。")},
    )

    def clean_held_on(self):
        day = self.cleaned_data["held_on"]
        if day > timezone.localdate():
            raise ValidationError(_("调解日期不能晚于今天。"))
        return day


class FollowUpForm(CaseActionForm):
    visited_on = date_field(_("回访日期"), initial_today=True)
    fulfilment = forms.ChoiceField(
        label=_("履行情况"),
        choices=Fulfilment.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择履行情况。")},
    )
    satisfaction = forms.ChoiceField(
        label=_("当事人满意度"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择当事人满意度。")},
    )
    notes = forms.CharField(
        label=_("回访情况（选填）"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_visited_on(self):
        day = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise ValidationError(_("回访日期不能晚于今天。"))
        return day


class ConfirmationApplyForm(CaseActionForm):
    court = forms.CharField(label=_("受理法院"), max_length=100, error_messages={"required": _("请填写受理法院。")})
    applied_on = date_field(_("申请日期"), initial_today=True)


class ConfirmationDecideForm(CaseActionForm):
    decided_on = date_field(_("决定日期"), initial_today=True)
    decision = forms.ChoiceField(
        label=_("决定"),
        choices=ConfirmationDecision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择确认结果。")},
    )


# Transitions (disputes.transitions) and records, by the name used in /cases/<pk>/act/<name>/.
TRANSITION_FORMS: dict[str, type[CaseActionForm]] = {
    "accept": NoteForm,
    "decline": DeclineForm,
    "assign": AssignForm,
    "agree": AgreeForm,
    "fail": FailForm,
    "transfer": TransferForm,
    "refer": ReferForm,
    "close": NoteForm,
}
RECORD_FORMS: dict[str, type[CaseActionForm]] = {
    "party": PartyForm,
    "session": SessionForm,
    "follow_up": FollowUpForm,
    "confirmation_apply": ConfirmationApplyForm,
    "confirmation_decide": ConfirmationDecideForm,
}
ACTION_FORMS = {**TRANSITION_FORMS, **RECORD_FORMS}


def action_form(name: str, *args, case: Case, user: User, **kwargs) -> CaseActionForm:
    return ACTION_FORMS[name](*args, case=case, user=user, prefix=name, **kwargs)


# --- Converting a grid event (grids.events.conversion) ---------------------------------------------------


def convert_form_fields(user: User) -> dict[str, forms.Field]:
    """The fields of the event page's 转矛盾纠纷 form: an organisation in the user's jurisdiction and a
    dispute type."""
    organisations = MediationOrganisation.objects.restrict(user).filter(is_active=True)
    return {
        "organisation": forms.ModelChoiceField(
            queryset=organisations.order_by("region__code", "name"),
            label=_("调解组织"),
            empty_label=_("请选择调解组织"),
            error_messages={"required": _("请选择调解组织。"), "invalid_choice": _("请选择辖区内的调解组织。")},
        ),
        "dispute_type": forms.ChoiceField(
            label=_("纠纷类型"), choices=DisputeType.choices, error_messages={"required": _("请选择纠纷类型。")}
        ),
    }
