"""Writes to mediation cases: registration (also from a grid event), parties, every transition,
sessions, follow-ups and judicial confirmation; repeat detection and time limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit, personal_data
from governance.choices import Role
from governance.codes import Level, ancestor_code
from governance.models import User
from governance.transitions import may_act as may_act_on
from governance.uploads import check_upload_field
from grids.events.conversion import LinkedCase
from grids.events.sla import END_OF_DAY, nth_working_day_after

from . import lifecycle
from .choices import CaseStatus, ConfirmationDecision, PartyKind, RiskLevel
from .lifecycle import CaseError, conclusion_deadlines  # noqa: F401  (part of this module's interface)
from .models import (
    Agreement,
    Case,
    CaseHistory,
    CaseNumberSequence,
    CaseTransfer,
    FollowUp,
    JudicialConfirmation,
    MediationOrganisation,
    MediationSession,
    Party,
)
from .transitions import CASES, case_handler
from .validators import mask_id, validate_citizen_id, validate_credit_code, validate_mobile

CONFIRMATION_WORKING_DAYS = 7
REPEAT_WINDOW_DAYS = 365
MASS_THRESHOLD = 5  # people on one side


def _name(user: User | None) -> str:
    return (user.display_name or user.username) if user else _("系统")


def _record(case: Case, action: str, before: str, user: User | None, note: str = "", **data) -> CaseHistory:
    return CaseHistory.objects.create(
        case=case, at=timezone.now(), actor=user, actor_name=_name(user), action=action,
        from_status=before, to_status=case.status, note=note, data=data,
    )  # fmt: skip


def may_act(user: User, case: Case) -> bool:
    """Whether the user handles this case at all (records that change no state: parties, sessions,
    follow-ups, confirmation): the case-handler rule of disputes.transitions."""
    return may_act_on(user, "case.handle", case_handler, case)


def _begin(case: Case, name: str, user: User) -> tuple[Case, str]:
    """Lock the row and check the move on it (disputes.transitions.CASES: state, then actor)."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    CASES.check(user, locked, name)
    return locked, locked.status


def linked_case(event) -> LinkedCase | None:
    """The case registered from a converted grid event, as the event's page and API show it."""
    case = Case.objects.select_related("organisation").filter(origin_event=event).first()
    if case is None:
        return None
    return LinkedCase(
        number=case.number,
        organisation=case.organisation.name,
        status=str(case.get_status_display()),
        url=reverse("disputes:detail", args=[case.pk]),
    )


def mass_and_risk(people_on_largest_side: int, risk_level: int) -> tuple[bool, int]:
    """≥ 5 people on one side makes a case 群体性 and raises its risk to at least 较大."""
    is_mass = people_on_largest_side >= MASS_THRESHOLD
    return is_mass, max(risk_level, RiskLevel.MAJOR) if is_mass else risk_level


CASE_NUMBER_DIGITS = 6


def case_number_prefix(organisation: MediationOrganisation, when: dt.datetime) -> str:
    """案号 prefix: T + the organisation's county code + the registration year."""
    return f"T{ancestor_code(organisation.region.code, Level.COUNTY)}{timezone.localtime(when):%Y}"


@transaction.atomic
def take_case_numbers(*, prefix: str, count: int = 1) -> list[str]:
    """The next `count` case numbers under `prefix`, taken under a lock on the prefix's counter
    (held to the end of the caller's transaction, so numbers are never given twice). A new
    counter starts after the highest number already stored (cases imported or registered
    before the counter existed)."""
    sequence = CaseNumberSequence.objects.select_for_update().filter(prefix=prefix).first()
    if sequence is None:
        highest = Case.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
        start = _sequence_of(highest.first() or "", prefix) or 0
        try:
            with transaction.atomic():
                CaseNumberSequence.objects.create(prefix=prefix, last=start)
        except IntegrityError:  # another registration created it first
            pass
        sequence = CaseNumberSequence.objects.select_for_update().get(prefix=prefix)
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return [f"{prefix}{n:0{CASE_NUMBER_DIGITS}d}" for n in range(first, sequence.last + 1)]


def note_case_numbers(numbers) -> None:
    """Advance the counters past numbers stored without taking them (numbers an import keeps
    from the old system), so that a later registration never collides with one of them."""
    highest: dict[str, int] = {}
    for number in numbers:
        prefix = number[:-CASE_NUMBER_DIGITS]
        sequence = _sequence_of(number, prefix)
        if sequence is not None and len(prefix) == 11 and prefix.startswith("T"):
            highest[prefix] = max(highest.get(prefix, 0), sequence)
    for prefix, last in sorted(highest.items()):
        take_case_numbers(prefix=prefix, count=0)  # creates the counter from the stored numbers if needed
        CaseNumberSequence.objects.filter(prefix=prefix, last__lt=last).update(last=last)


def _sequence_of(number: str, prefix: str) -> int | None:
    tail = number[len(prefix) :] if number.startswith(prefix) else ""
    return int(tail) if len(tail) == CASE_NUMBER_DIGITS and tail.isdigit() else None


# --- Registration ------------------------------------------------------------------------------


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
    _record(case, "register", "", user, origin_event=origin_event.pk if origin_event else None)
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


def repeat_case_ids(cases) -> set[int]:
    """重复: the cases among `cases` with a party who is a party to another case — any organisation,
    anywhere on the platform — registered in the 365 days before it: a natural person matched by the
    ID number's keyed hash, an organisation by its unified social credit code. One query."""
    window = {
        "case__registered_at__lt": OuterRef("case__registered_at"),
        "case__registered_at__gte": OuterRef("case__registered_at") - dt.timedelta(days=REPEAT_WINDOW_DAYS),
    }
    earlier = Party.objects.filter(**window).exclude(case_id=OuterRef("case_id"))
    same_person = earlier.filter(kind=PartyKind.PERSON, id_number_index=OuterRef("id_number_index"))
    same_organisation = earlier.filter(kind=PartyKind.ORGANISATION, credit_code=OuterRef("credit_code"))
    parties = Party.objects.filter(case__in=cases).filter(
        (Q(kind=PartyKind.PERSON) & ~Q(id_number_index="") & Exists(same_person))
        | (Q(kind=PartyKind.ORGANISATION) & ~Q(credit_code="") & Exists(same_organisation))
    )
    return set(parties.values_list("case_id", flat=True))


def refresh_repeat_flag(case: Case) -> bool:
    """Set the repeat flag of one case (only the flag is stored: a mediator never learns which
    other case it was)."""
    repeat = case.pk in repeat_case_ids(Case.objects.filter(pk=case.pk))
    if repeat != case.is_repeat:
        case.is_repeat = repeat
        case.save(update_fields=["is_repeat", "updated_at"])
    return repeat


def refresh_repeat_flags(cases) -> None:
    """refresh_repeat_flag for many cases at once (bulk writes: the caller records the audit entry)."""
    repeat = repeat_case_ids(cases)
    now = timezone.now()
    cases.filter(pk__in=repeat, is_repeat=False).update(is_repeat=True, updated_at=now)
    cases.exclude(pk__in=repeat).filter(is_repeat=True).update(is_repeat=False, updated_at=now)


def earlier_cases_of_same_parties(case: Case, viewer: User):
    """For committee staff: the earlier cases behind a repeat flag, limited to the viewer's jurisdiction."""
    return (
        Case.objects.restrict(viewer)
        .filter(parties__in=same_parties(case.parties.all()))
        .filter(registered_at__gte=case.registered_at - dt.timedelta(days=REPEAT_WINDOW_DAYS))
        .filter(registered_at__lt=case.registered_at)
        .exclude(pk=case.pk)
        .distinct()
    )


def same_parties(parties):
    """Every party row that is the same person (ID hash) or organisation (credit code) as one of `parties`."""
    indexes = parties.filter(kind=PartyKind.PERSON).exclude(id_number_index="").values("id_number_index")
    codes = parties.filter(kind=PartyKind.ORGANISATION).exclude(credit_code="").values("credit_code")
    return Party.objects.filter(
        Q(kind=PartyKind.PERSON, id_number_index__in=indexes) | Q(kind=PartyKind.ORGANISATION, credit_code__in=codes)
    )


# --- Transitions -------------------------------------------------------------------------------


def _step(case: Case, name: str, user: User, **inputs) -> Case:
    """Lock, check, apply the step's effects (disputes.lifecycle) now, save with its audit entry
    (governance.audit.save_and_record, naming the transition) and record the history row."""
    case, before = _begin(case, name, user)
    step = lifecycle.apply(case, name, at=timezone.now(), **inputs)
    audit.save_and_record(case, transition=name, update_fields=[*step.fields, "status", "updated_at"])
    if step.transfer:
        CaseTransfer.objects.create(case=case, **step.transfer)
    _record(case, name, before, user, step.note, **step.data)
    return case


@transaction.atomic
def case_accept(*, case: Case, user: User, note: str = "") -> Case:
    return _step(case, "accept", user, note=note)


@transaction.atomic
def case_decline(*, case: Case, user: User, reason: str) -> Case:
    return _step(case, "decline", user, reason=reason)


@transaction.atomic
def case_assign(*, case: Case, user: User, mediator: User) -> Case:
    if not mediator.is_active:
        raise CaseError({"mediator": [_("请选择本调解组织的调解员。")]})
    return _step(case, "assign", user, mediator=mediator)


@transaction.atomic
def case_agree(
    *, case: Case, user: User, terms: str, signed_on: dt.date, amount: Decimal | None = None,
    performance_deadline: dt.date | None = None,
) -> Case:  # fmt: skip
    terms = lifecycle.check_agreement(terms, signed_on, performance_deadline)
    case = _step(case, "agree", user)
    Agreement.objects.create(
        case=case, terms=terms, amount=amount, signed_on=signed_on, performance_deadline=performance_deadline
    )
    return case


@transaction.atomic
def case_fail(*, case: Case, user: User, reason: str) -> Case:
    return _step(case, "fail", user, reason=reason)


@transaction.atomic
def case_refer(*, case: Case, user: User, referral: str, note: str = "") -> Case:
    return _step(case, "refer", user, referral=referral, note=note)


@transaction.atomic
def case_transfer(*, case: Case, user: User, to: MediationOrganisation, reason: str) -> Case:
    """移交上级 to an active organisation of a region above (see disputes.lifecycle.transfer)."""
    if not to.is_active:
        raise CaseError({"to": [_("只能移交给上级区划的调解组织。")]})
    return _step(case, "transfer", user, to=to, reason=reason)


@transaction.atomic
def case_close(*, case: Case, user: User, note: str = "") -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    return _step(
        case, "close", user, note=note, has_follow_up=locked.follow_ups.exists(),
        confirmation_pending=JudicialConfirmation.objects.filter(case=locked, decided_on__isnull=True).exists(),
    )  # fmt: skip


# --- Records that keep the state -------------------------------------------------------------------


def _require_state(case: Case, user: User, states: set[str], label: str) -> Case:
    """The case, re-read under a row lock, if it is in one of `states` and the user may act."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in states:
        raise CaseError(
            _("案件当前状态为“%(status)s”，不能%(action)s。") % {"status": case.get_status_display(), "action": label},
            code="illegal_transition",
        )
    if not may_act(user, case):
        raise CaseError(_("您无权%(action)s。") % {"action": label}, code="not_allowed")
    return case


@transaction.atomic
def session_log(
    *, case: Case, user: User, held_on: dt.date, place: str, attendees: str, notes: str, file=None
) -> MediationSession:
    case = _require_state(case, user, {CaseStatus.MEDIATING}, _("记录调解"))
    if held_on > timezone.localdate():
        raise CaseError({"held_on": [_("调解日期不能晚于今天。")]})
    if file:
        check_upload_field(file, field="file")
    session = MediationSession.objects.create(
        case=case, held_on=held_on, place=place, attendees=attendees, notes=notes, file=file or "", recorded_by=user
    )
    _record(case, "session", case.status, user, session=session.pk)
    return session


@transaction.atomic
def follow_up_record(
    *, case: Case, user: User, visited_on: dt.date, fulfilment: str, satisfaction: str, notes: str = ""
) -> FollowUp:
    case = _require_state(case, user, {CaseStatus.AGREED}, _("记录履行回访"))
    if visited_on > timezone.localdate():
        raise CaseError({"visited_on": [_("回访日期不能晚于今天。")]})
    follow_up = FollowUp.objects.create(
        case=case,
        visited_on=visited_on,
        fulfilment=fulfilment,
        satisfaction=satisfaction,
        notes=notes,
        recorded_by=user,
    )
    _record(case, "follow_up", case.status, user, fulfilment=fulfilment, satisfaction=satisfaction)
    return follow_up


def confirmation_deadline(applied_on: dt.date) -> dt.date:
    """The court decides within 7 working days of the application (PRC calendar)."""
    return nth_working_day_after(applied_on, CONFIRMATION_WORKING_DAYS)


@transaction.atomic
def confirmation_apply(*, case: Case, user: User, court: str, applied_on: dt.date) -> JudicialConfirmation:
    case = _require_state(case, user, {CaseStatus.AGREED}, _("申请司法确认"))
    if JudicialConfirmation.objects.filter(case=case).exists():
        raise CaseError(_("该案件已申请司法确认。"), code="duplicate")
    confirmation = JudicialConfirmation.objects.create(
        case=case, court=lifecycle.require(court, "court", _("请填写受理法院。")), applied_on=applied_on,
        deadline=confirmation_deadline(applied_on),
    )  # fmt: skip
    _record(case, "confirmation_apply", case.status, user, court=court)
    return confirmation


@transaction.atomic
def confirmation_decide(*, case: Case, user: User, decided_on: dt.date, decision: str) -> JudicialConfirmation:
    case = _require_state(case, user, {CaseStatus.AGREED}, _("登记司法确认结果"))
    confirmation = JudicialConfirmation.objects.select_for_update().filter(case=case).first()
    if confirmation is None or confirmation.decided_on is not None:
        raise CaseError(_("没有待决定的司法确认申请。"), code="no_pending")
    if decision not in ConfirmationDecision.values:
        raise CaseError({"decision": [_("请选择确认结果。")]})
    if decided_on < confirmation.applied_on:
        raise CaseError({"decided_on": [_("决定日期不能早于申请日期。")]})
    confirmation.decided_on, confirmation.decision = decided_on, decision
    confirmation.save(update_fields=["decided_on", "decision"])
    _record(case, "confirmation_decide", case.status, user, decision=decision)
    return confirmation


def deadline_end(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, END_OF_DAY))


TRANSITION_SERVICES = {
    "accept": case_accept,
    "decline": case_decline,
    "assign": case_assign,
    "agree": case_agree,
    "fail": case_fail,
    "transfer": case_transfer,
    "refer": case_refer,
    "close": case_close,
}


def transition(name: str, **kwargs) -> Case:
    if name not in TRANSITION_SERVICES:
        raise CaseError(_("未知操作。"), code="unknown_transition")
    return TRANSITION_SERVICES[name](**kwargs)
