"""Registering a case (also from a grid event, idempotent by the client's id) and adding its parties;
群体性 cases and their risk."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import personal_data
from governance.choices import Role
from governance.codes import Level
from governance.models import User

from ..choices import CaseStatus, PartyKind, RiskLevel
from ..lifecycle import CaseError
from ..models import Case, MediationOrganisation, Party
from ..validators import mask_id, validate_citizen_id, validate_credit_code, validate_mobile
from .history import may_act, record
from .numbers import case_number_prefix, take_case_numbers
from .repeats import refresh_repeat_flag

MASS_THRESHOLD = 5  # people on one side


def mass_and_risk(people_on_largest_side: int, risk_level: int) -> tuple[bool, int]:
    """≥ 5 people on one side makes a case 群体性 and raises its risk to at least 较大."""
    is_mass = people_on_largest_side >= MASS_THRESHOLD
    return is_mass, max(risk_level, RiskLevel.MAJOR) if is_mass else risk_level


@transaction.atomic
def case_register(
    *,
    user: User | None,
    organisation: MediationOrganisation,
    origin_region,
    dispute_type: str,
    title: str,
    facts: str,
    risk_level: int = RiskLevel.GENERAL,
    people_involved: int = 2,
    largest_side: int = 1,
    parties: list[dict] | None = None,
    origin_event=None,
    registered_at: dt.datetime | None = None,
    client_uuid=None,
) -> Case:
    """登记: a new case at an organisation inside the registering user's jurisdiction."""
    errors = {}
    if user is not None and not user.is_superuser:
        if not MediationOrganisation.objects.restrict(user).filter(pk=organisation.pk, is_active=True).exists():
            errors["organisation"] = [_("该调解组织不在您的管辖范围内或已停用。")]
        elif user.role == Role.MEDIATOR and user.mediation_org_id != organisation.pk:
            errors["organisation"] = [_("调解员只能在本调解组织登记案件。")]
    if origin_region.level < Level.TOWNSHIP:
        errors["origin_region"] = [_("请选择纠纷发生的乡镇、村（社区）或网格。")]
    if largest_side > people_involved:
        errors["largest_side"] = [_("单方人数不能多于涉及总人数。")]
    if errors:
        raise ValidationError(errors)
    is_mass, risk = mass_and_risk(largest_side, risk_level)
    when = registered_at or timezone.now()
    case = Case.objects.create(
        number=take_case_numbers(prefix=case_number_prefix(organisation, when))[0],
        client_uuid=client_uuid,
        organisation=organisation,
        region_code=organisation.region.code,
        assessment_code=organisation.region.code,
        origin_region=origin_region,
        origin_event=origin_event,
        dispute_type=dispute_type,
        risk_level=risk,
        people_involved=people_involved,
        largest_side=largest_side,
        is_mass=is_mass,
        title=title,
        facts=facts,
        registered_by=user,
        registered_at=when,
    )
    record(case, "register", "", user, origin_event=origin_event.pk if origin_event else None)
    for party in parties or []:
        party_add(case=case, user=user, **party)
    return Case.objects.get(pk=case.pk) if parties else case  # parties may have set the repeat flag


def case_register_once(*, client_uuid, user: User | None, **fields) -> tuple[Case, bool]:
    """case_register, idempotent by the registering client's id: a re-sent (or concurrent)
    registration with the same `client_uuid` returns the first one's case (created=False)."""
    existing = Case.objects.filter(client_uuid=client_uuid).first()
    if existing is None:
        try:
            with transaction.atomic():
                return case_register(user=user, client_uuid=client_uuid, **fields), True
        except IntegrityError:  # the same id registered concurrently: the other request won
            existing = Case.objects.filter(client_uuid=client_uuid).first()
            if existing is None:
                raise
    if user is not None and not Case.objects.restrict(user).filter(pk=existing.pk).exists():
        raise ValidationError({"client_uuid": [_("该客户端编号已被使用。")]})
    return existing, False


@transaction.atomic
def party_add(
    *, case: Case, user: User | None, side: str, name: str, kind: str = PartyKind.PERSON,
    id_number: str = "", phone: str = "", credit_code: str = "", legal_representative: str = "",
    address: str = "",
) -> Party:  # fmt: skip
    """Add a party: a natural person (GB 11643 ID) or an organisation (GB 32100 credit code, legal
    representative); IDs and credit codes checked, personal numbers encrypted and indexed."""
    if user is not None:
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status not in (CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.MEDIATING):
            raise CaseError(
                _("案件当前状态为“%(status)s”，不能添加当事人。") % {"status": case.get_status_display()},
                code="illegal_transition",
            )
        if not may_act(user, case):
            raise CaseError(_("您无权为该案件添加当事人。"), code="not_allowed")
    errors: dict[str, list] = {}
    if not (name or "").strip():
        errors["name"] = [_("请填写当事人姓名或名称。")]
    try:
        if kind == PartyKind.PERSON:
            id_number = validate_citizen_id(id_number) if id_number else ""
            credit_code = legal_representative = ""
        else:
            credit_code = validate_credit_code(credit_code)
            id_number = ""
    except ValidationError as exc:
        errors["id_number" if kind == PartyKind.PERSON else "credit_code"] = exc.messages
    try:
        phone = validate_mobile(phone) if phone else ""
    except ValidationError as exc:
        errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    party = Party.objects.create(
        case=case, side=side, kind=kind, name=name.strip(), address=address, credit_code=credit_code,
        legal_representative=(legal_representative or "").strip(),
        id_number=personal_data.encrypt(id_number), id_number_index=personal_data.blind_index(id_number),
        id_number_masked=mask_id(id_number), phone=personal_data.encrypt(phone),
        phone_index=personal_data.blind_index(phone), phone_masked=personal_data.mask_phone(phone),
    )  # fmt: skip
    refresh_repeat_flag(case)
    return party
