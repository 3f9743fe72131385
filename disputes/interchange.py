"""The disputes' record types of the interchange (docs/import-format.md): mediation_organisation,
and case with its parties, timeline, sessions, agreement, follow-ups and judicial confirmation.
Registered by DisputesConfig.ready()."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from disputes import lifecycle
from disputes.choices import (
    CaseOutcome,
    CaseStatus,
    ConfirmationDecision,
    DisputeType,
    Fulfilment,
    OrgKind,
    PartyKind,
    PartySide,
    RiskLevel,
    Satisfaction,
)
from disputes.models import (
    Agreement,
    Case,
    CaseHistory,
    CaseTransfer,
    FollowUp,
    JudicialConfirmation,
    MediationOrganisation,
    MediationSession,
    Party,
)
from disputes.services import (
    case_number_prefix,
    confirmation_deadline,
    deadline_end,
    mass_and_risk,
    note_case_numbers,
    refresh_repeat_flags,
    take_case_number_blocks,
)
from disputes.transitions import TRANSITIONS
from disputes.validators import mask_id, validate_citizen_id, validate_credit_code, validate_mobile
from governance.bulk import insert_objects, write_rows
from governance.interchange.base import (
    Context,
    Prepared,
    RecordType,
    Rejected,
    day,
    decimal,
    integer,
    register,
    text,
    word,
)
from governance.interchange.department import department
from governance.interchange.exporter import iso
from governance.interchange.records import (
    HISTORY_COLUMNS,
    DirectoryRecord,
    check_move,
    history_row,
    rejected_step,
    timeline_steps,
)
from governance.models import User
from governance.personal_data import blind_index, decrypt, encrypt, mask_phone
from grids.models import Region

RISK_WORDS = {"general": RiskLevel.GENERAL, "major": RiskLevel.MAJOR, "serious": RiskLevel.SERIOUS,
              "extreme": RiskLevel.EXTREME}  # fmt: skip
RISK_NAMES = {v: k for k, v in RISK_WORDS.items()}


def organisation(ctx: Context, value, key: str):
    """The mediation organisation a row names as {"region", "name"}: on the platform, or
    (validation) earlier in the file."""
    if not isinstance(value, dict):
        raise Rejected({key: [_('调解组织应写作{"region": 区划代码, "name": 名称}。')]})
    region, name = str(value.get("region", "")), str(value.get("name", ""))
    org = ctx.cached(
        ("org", region, name),
        lambda: MediationOrganisation.objects.select_related("region").filter(region__code=region, name=name).first(),
    )
    if org is None and ctx.phase == "validate":
        org = ctx.placeholder("organisation", region, name, MediationOrganisation)
    if org is None:
        raise Rejected({key: [_("调解组织“%(name)s”（%(code)s）不存在。") % {"name": name, "code": region}]})
    return org


def load_organisations(ctx: Context, values) -> None:
    """The organisations a chunk names ({"region", "name"}), in one query (what `organisation`
    would look up one by one; one not on the platform is cached as None there too)."""
    wanted = {(str(v.get("region", "")), str(v.get("name", ""))) for v in values if isinstance(v, dict)}
    wanted = {key for key in wanted if ("org", *key) not in ctx.cache}
    if not wanted:
        return
    found = MediationOrganisation.objects.select_related("region").filter(
        region__code__in={code for code, _name in wanted}, name__in={name for _code, name in wanted}
    )
    orgs = {(o.region.code, o.name): o for o in found}
    ctx.cache.update({("org", *key): orgs.get(key) for key in wanted})


def _party(value, index: int) -> dict:
    key = f"parties[{index}]"
    if not isinstance(value, dict):
        raise Rejected({key: [_("当事人应为一个对象。")]})
    kind = word(value, "kind", PartyKind.values, default=PartyKind.PERSON)
    side = word(value, "side", PartySide.values)
    name = text(value, "name", max_length=100)
    if not name:
        raise Rejected({f"{key}.name": [_("请填写当事人姓名或名称。")]})
    id_number = credit_code = ""
    try:
        if kind == PartyKind.PERSON:
            id_number = validate_citizen_id(text(value, "id_number")) if text(value, "id_number") else ""
        else:
            credit_code = validate_credit_code(text(value, "credit_code"))
    except ValidationError as exc:
        field = "id_number" if kind == PartyKind.PERSON else "credit_code"
        raise Rejected({f"{key}.{field}": exc.messages}) from exc
    phone = text(value, "phone")
    try:
        phone = validate_mobile(phone) if phone else ""
    except ValidationError as exc:
        raise Rejected({f"{key}.phone": exc.messages}) from exc
    masked_id, masked_phone = text(value, "id_number_masked", max_length=18), text(value, "phone_masked", max_length=11)
    return {
        "side": side, "kind": kind, "name": name, "address": text(value, "address", max_length=200),
        "credit_code": credit_code, "id_number": encrypt(id_number), "id_number_index": blind_index(id_number),
        "legal_representative": text(value, "legal_representative", max_length=50) if credit_code else "",
        "id_number_masked": mask_id(id_number) if id_number else masked_id, "phone": encrypt(phone), "phone_index": blind_index(phone),
        "phone_masked": mask_phone(phone) if phone else masked_phone,
    }  # fmt: skip


def replay_case(case, timeline, ctx: Context, *, has_agreement: bool, follow_ups: list, confirmation):
    """Walk a case's timeline through disputes.transitions, each step applied by
    disputes.lifecycle (the effects the live services have) at the step's moment. Fills the
    unsaved `case` and returns its history rows and its transfers (CaseTransfer fields)."""
    history, transfers = [], []
    for index, key, step, action, at in timeline_steps(timeline, "register"):
        note = text(step, "note")
        if index == 0:
            case.registered_at, case.status = at, CaseStatus.REGISTERED
            history.append(history_row("register", "", case.status, at, step, note, {}, actor=ctx.import_actor))
            continue
        before = case.status
        check_move(TRANSITIONS, action, before, key)
        inputs = {"note": note, "reason": note}
        if action == "close":  # what the platform would have known on the day of closing
            today = timezone.localtime(at).date()
            inputs["has_follow_up"] = any(f["visited_on"] <= today for f in follow_ups)
            inputs["confirmation_pending"] = bool(confirmation) and (
                confirmation["decided_on"] is None or confirmation["decided_on"] > today
            )
        if action == "agree" and not has_agreement:
            raise Rejected({"agreement": [_("调解成功的案件须附调解协议（agreement）。")]})
        if action == "assign":
            inputs["mediator"] = _mediator(ctx, text(step, "mediator"), f"{key}.mediator", case)
        elif action == "refer":
            inputs["referral"] = text(step, "referral")
        elif action == "transfer":
            inputs["to"] = organisation(ctx, step.get("to"), f"{key}.to")
        try:
            effect = lifecycle.apply(case, action, at=at, **inputs)
        except ValidationError as exc:
            raise rejected_step(exc, key) from exc
        history.append(
            history_row(action, before, case.status, at, step, effect.note or note, effect.data, actor=ctx.import_actor)
        )
        if effect.transfer:
            transfers.append(effect.transfer)
    return history, transfers


def _mediator(ctx: Context, username: str, key: str, case):
    if not username:
        raise Rejected({key: [_("请填写调解员账号。")]})
    return ctx.account(username, key)


@register
class OrganisationRecord(DirectoryRecord):
    """调解组织: `region, name, kind, trade, department? {region, name}, host? {region, name}, active`."""

    kind = "mediation_organisation"
    model = MediationOrganisation
    position = 30
    placeholder = "organisation"
    levels = ["province", "city", "county", "township", "village"]

    def fields(self, row, ctx, region):
        values = {"kind": word(row, "kind", OrgKind.values), "trade": text(row, "trade", max_length=50),
                  "is_active": bool(row.get("active", True)), "department": None, "host": None}  # fmt: skip
        if row.get("department"):
            values["department"] = department(ctx, row["department"], "department")
        if row.get("host"):
            values["host"] = organisation(ctx, row["host"], "host")
        return values

    def export(self, scope):
        orgs = scope.restricted(MediationOrganisation).filter(region__code__under=scope.code)
        hosts_first = sorted(
            (o for chunk in scope.chunks(orgs.select_related("region", "department__region", "host__region"))
             for o in chunk),
            key=lambda o: (o.host_id is not None, o.pk),
        )  # fmt: skip
        for o in hosts_first:
            row = {"region": o.region.code, "name": o.name, "kind": o.kind, "trade": o.trade, "active": o.is_active}
            if o.department_id:
                row["department"] = {"region": o.department.region.code, "name": o.department.name}
            if o.host_id:
                row["host"] = _org(o.host)
            yield row


@register
class CaseRecord(RecordType):
    """矛盾纠纷案件."""

    kind = "case"
    model = Case
    position = 70
    region_keys = ("origin_region",)
    reveal_capability = "case.reveal_party"

    def prefetch(self, rows, ctx):
        super().prefetch(rows, ctx)
        ctx.load_refs("event", (text(r, "origin_event") for r in rows))
        steps = [s for r in rows if isinstance(r.get("timeline"), list) for s in r["timeline"] if isinstance(s, dict)]
        ctx.load_accounts(text(s, "mediator") for s in steps if s.get("action") == "assign")
        load_organisations(ctx, [r.get("organisation") for r in rows] + [s.get("to") for s in steps])

    def validate(self, row, ctx):
        org = organisation(ctx, row.get("organisation"), "organisation")
        origin = ctx.region(row, "origin_region", levels=["township", "village", "grid"])
        people, largest = (
            integer(row, "people_involved", default=2, minimum=1),
            integer(row, "largest_side", default=1, minimum=1),
        )
        if largest > people:
            raise Rejected({"largest_side": [_("单方人数不能多于涉及总人数。")]})
        risk = word(row, "risk", RISK_WORDS, default="general")
        is_mass, risk_level = mass_and_risk(largest, RISK_WORDS[risk])
        number = text(row, "number", max_length=32)
        if number and Case.objects.filter(number=number).exists():
            raise Rejected({"number": [_("案号“%(n)s”已被平台上的其他案件使用。") % {"n": number}]})
        origin_event = text(row, "origin_event")
        if origin_event and not ctx.ref_exists("event", origin_event):
            raise Rejected({"origin_event": [_("来源事件“%(id)s”不存在。") % {"id": origin_event}]})
        parties = [_party(p, i) for i, p in enumerate(row.get("parties") or [])]
        agreement = self._agreement(row.get("agreement"))
        follow_ups = [self._follow_up(f, i) for i, f in enumerate(row.get("follow_ups") or [])]
        confirmation = self._confirmation(row.get("confirmation"))
        case = Case(
            organisation=org, region_code=org.region.code, assessment_code=org.region.code,
            dispute_type=word(row, "dispute_type", DisputeType.values), risk_level=risk_level,
            people_involved=people, largest_side=largest, is_mass=is_mass,
            title=text(row, "title", required=True, max_length=100),
            facts=text(row, "facts", required=True, max_length=4000),
        )  # fmt: skip
        if isinstance(origin, Region):
            case.origin_region = origin
        history, transfers = replay_case(
            case, row.get("timeline"), ctx, has_agreement=agreement is not None, follow_ups=follow_ups,
            confirmation=confirmation,
        )  # fmt: skip
        if not ctx.allowed(case.region_code):
            raise Rejected({"organisation": [_("调解组织不在您的管辖范围内。")]})
        registered_on = timezone.localtime(case.registered_at).date()
        sessions = [self._session(s, i, registered_on) for i, s in enumerate(row.get("sessions") or [])]
        if (agreement or follow_ups or confirmation) and case.outcome != CaseOutcome.AGREED:
            raise Rejected({"agreement": [_("只有调解成功的案件才有协议、履行回访和司法确认。")]})
        for i, f in enumerate(follow_ups):
            if agreement and f["visited_on"] < agreement["signed_on"]:
                raise Rejected({f"follow_ups[{i}].visited_on": [_("回访日期早于协议签订日期。")]})
        if ctx.phase == "write" and origin_event:
            case.origin_event_id = ctx.object_id("event", origin_event)
        history += self._record_history(case, sessions, follow_ups, confirmation, ctx.import_actor)
        values = {"case": case, "number": number, "parties": parties, "history": history, "sessions": sessions,
                  "agreement": agreement, "follow_ups": follow_ups, "confirmation": confirmation,
                  "transfers": transfers}  # fmt: skip
        return Prepared("", "", "", case.region_code, 0, values)

    @staticmethod
    def _record_history(case, sessions, follow_ups, confirmation, actor: str) -> list[dict]:
        """The history rows session_log, follow_up_record and the confirmation services write,
        dated at the end of the day the record names (the old system kept no time)."""

        def row(action, day, **data):
            return {"action": action, "from_status": case.status, "to_status": case.status, "at": deadline_end(day),
                    "actor_name": actor, "note": "", "data": data}  # fmt: skip

        rows = [row("session", s["held_on"]) for s in sessions]
        rows += [row("follow_up", f["visited_on"], fulfilment=f["fulfilment"], satisfaction=f["satisfaction"])
                 for f in follow_ups]  # fmt: skip
        if confirmation:
            rows.append(row("confirmation_apply", confirmation["applied_on"], court=confirmation["court"]))
            if confirmation["decided_on"]:
                rows.append(row("confirmation_decide", confirmation["decided_on"], decision=confirmation["decision"]))
        return rows

    @staticmethod
    def _session(value, index, registered_on):
        if not isinstance(value, dict):
            raise Rejected({f"sessions[{index}]": [_("调解记录应为一个对象。")]})
        held_on = day(value, "held_on")
        if held_on < registered_on:
            raise Rejected({f"sessions[{index}].held_on": [_("调解日期早于登记日期。")]})
        return {"held_on": held_on, "place": text(value, "place", max_length=100),
                "attendees": text(value, "attendees", max_length=300), "notes": text(value, "notes", max_length=4000)}  # fmt: skip

    @staticmethod
    def _agreement(value):
        if not value:
            return None
        if not isinstance(value, dict):
            raise Rejected({"agreement": [_("调解协议应为一个对象。")]})
        signed_on = day(value, "signed_on")
        deadline = day(value, "performance_deadline", required=False)
        try:
            terms = lifecycle.check_agreement(text(value, "terms", max_length=8000), signed_on, deadline)
        except ValidationError as exc:
            raise rejected_step(exc, "agreement") from exc
        return {"terms": terms, "amount": decimal(value, "amount", required=False), "signed_on": signed_on,
                "performance_deadline": deadline}  # fmt: skip

    @staticmethod
    def _follow_up(value, index):
        if not isinstance(value, dict):
            raise Rejected({f"follow_ups[{index}]": [_("履行回访应为一个对象。")]})
        return {"visited_on": day(value, "visited_on"), "fulfilment": word(value, "fulfilment", Fulfilment.values),
                "satisfaction": word(value, "satisfaction", Satisfaction.values), "notes": text(value, "notes", max_length=500)}  # fmt: skip

    @staticmethod
    def _confirmation(value):
        if not value:
            return None
        if not isinstance(value, dict):
            raise Rejected({"confirmation": [_("司法确认应为一个对象。")]})
        applied_on = day(value, "applied_on")
        decided_on = day(value, "decided_on", required=False)
        decision = word(value, "decision", ConfirmationDecision.values, required=decided_on is not None)
        if decided_on and decided_on < applied_on:
            raise Rejected({"confirmation.decided_on": [_("决定日期不能早于申请日期。")]})
        return {"court": text(value, "court", required=True, max_length=100), "applied_on": applied_on,
                "deadline": confirmation_deadline(applied_on), "decided_on": decided_on, "decision": decision}  # fmt: skip

    def write(self, batch, ctx):
        cases = [p.values["case"] for p in batch]
        wanted: dict[str, list] = {}
        for case, p in zip(cases, batch, strict=True):
            if p.values["number"]:
                case.number = p.values["number"]
            else:
                wanted.setdefault(case_number_prefix(case.organisation, case.registered_at), []).append(case)
        taken = take_case_number_blocks({prefix: len(numbered) for prefix, numbered in wanted.items()})
        for prefix, numbered in wanted.items():  # the batch's counters, locked and advanced together
            for case, number in zip(numbered, taken[prefix], strict=True):
                case.number = number
        note_case_numbers(p.values["number"] for p in batch if p.values["number"])
        insert_objects(Case, cases)
        children = {
            model: [] for model in (Party, MediationSession, FollowUp, Agreement, JudicialConfirmation, CaseTransfer)
        }
        history = []
        for case, p in zip(cases, batch, strict=True):
            v = p.values
            children[Party] += [Party(case=case, **x) for x in v["parties"]]
            history += [(case.pk, *x.values()) for x in v["history"]]
            children[MediationSession] += [MediationSession(case=case, **x) for x in v["sessions"]]
            children[FollowUp] += [FollowUp(case=case, **x) for x in v["follow_ups"]]
            children[CaseTransfer] += [CaseTransfer(case=case, **x) for x in v["transfers"]]
            if v["agreement"]:
                children[Agreement].append(Agreement(case=case, **v["agreement"]))
            if v["confirmation"]:
                children[JudicialConfirmation].append(JudicialConfirmation(case=case, **v["confirmation"]))
        for model, rows in children.items():
            insert_objects(model, rows)
        write_rows(CaseHistory, ("case_id", *HISTORY_COLUMNS[1:]), history)
        self._repeat_flags(cases, children[Party])
        return [c.pk for c in cases]

    @staticmethod
    def _repeat_flags(cases, parties) -> None:
        """disputes.services.refresh_repeat_flags on every case a new party may concern: the
        imported cases and the platform's cases sharing one of their parties (ID number or credit code)
        (an earlier case imported later makes a later one a repeat, as if entered live)."""
        indexes = {p.id_number_index for p in parties if p.kind == PartyKind.PERSON and p.id_number_index}
        codes = {p.credit_code for p in parties if p.kind == PartyKind.ORGANISATION and p.credit_code}
        if not indexes and not codes:
            return
        same = Q(kind=PartyKind.PERSON, id_number_index__in=indexes) | Q(
            kind=PartyKind.ORGANISATION, credit_code__in=codes
        )
        refresh_repeat_flags(Case.objects.filter(pk__in=Party.objects.filter(same).values("case_id")))

    def export(self, scope):
        reveal = scope.may(self.reveal_capability)
        cases = scope.restricted(Case).filter(
            region_code__under=scope.code, registered_at__gte=scope.lo, registered_at__lt=scope.hi
        )
        cases = cases.select_related("organisation__region", "origin_region", "origin_event").prefetch_related(
            "parties", "sessions", "follow_ups", "agreement", "confirmation"
        )
        for chunk in scope.chunks(cases):
            yield from _case_rows(chunk, reveal)


# --- Export --------------------------------------------------------------------------------------------------


def _org(org) -> dict:
    return {"region": org.region.code, "name": org.name}


def _case_rows(chunk, reveal: bool):
    history: dict[int, list] = {}
    for h in CaseHistory.objects.filter(case__in=chunk).order_by("at", "pk"):
        history.setdefault(h.case_id, []).append(h)
    all_steps = [h for hs in history.values() for h in hs]
    org_ids = {h.data["to_org"] for h in all_steps if h.action == "transfer"} | {c.organisation_id for c in chunk}
    orgs = {o.pk: _org(o) for o in MediationOrganisation.objects.filter(pk__in=org_ids).select_related("region")}
    user_ids = {h.data.get("mediator") for h in all_steps if h.action == "assign"} - {None}
    users = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
    for c in chunk:
        steps = history.get(c.pk, [])
        first_org = next((h.data["from_org"] for h in steps if h.action == "transfer"), c.organisation_id)
        if first_org not in orgs:
            orgs[first_org] = _org(MediationOrganisation.objects.select_related("region").get(pk=first_org))
        row = {"id": c.number, "number": c.number, "organisation": orgs[first_org],
               "origin_region": c.origin_region.code,
               "origin_event": str(c.origin_event.client_uuid) if c.origin_event_id else "",
               "dispute_type": c.dispute_type, "risk": RISK_NAMES[c.risk_level],
               "people_involved": c.people_involved, "largest_side": c.largest_side, "title": c.title,
               "facts": c.facts, "parties": [_party_row(p, reveal) for p in c.parties.all()],
               "timeline": _case_timeline(c, steps, orgs, users),
               "sessions": [{"held_on": iso(s.held_on), "place": s.place, "attendees": s.attendees,
                             "notes": s.notes} for s in c.sessions.all()],
               "follow_ups": [{"visited_on": iso(f.visited_on), "fulfilment": f.fulfilment,
                               "satisfaction": f.satisfaction, "notes": f.notes} for f in c.follow_ups.all()]}  # fmt: skip
        agreement = getattr(c, "agreement", None) if hasattr(c, "agreement") else None
        if agreement is not None:
            row["agreement"] = {"terms": agreement.terms, "signed_on": iso(agreement.signed_on),
                                "amount": str(agreement.amount) if agreement.amount is not None else None,
                                "performance_deadline": iso(agreement.performance_deadline)}  # fmt: skip
        confirmation = getattr(c, "confirmation", None) if hasattr(c, "confirmation") else None
        if confirmation is not None:
            row["confirmation"] = {"court": confirmation.court, "applied_on": iso(confirmation.applied_on),
                                   "decided_on": iso(confirmation.decided_on), "decision": confirmation.decision}  # fmt: skip
        yield row


def _case_timeline(case, history, orgs, users) -> list[dict]:
    # sessions, follow-ups and confirmations travel as their own lists, not as timeline steps
    history = [h for h in history if h.action == "register" or h.action in TRANSITIONS]
    steps = []
    concludes = [h for h in history if h.action in ("agree", "fail")]
    for h in history:
        step = {"action": h.action, "at": h.at}
        if h.action == "register":
            step["at"] = case.registered_at
        elif h.action == "accept" and case.accepted_at:
            step["at"] = case.accepted_at
        elif h.action in ("agree", "fail"):
            if h is concludes[0] and case.first_concluded_at:
                step["at"] = case.first_concluded_at
            if h is concludes[-1] and case.concluded_at:
                step["at"] = case.concluded_at
        elif h.action == "decline" and case.concluded_at:
            step["at"] = case.concluded_at
        elif h.action == "close" and case.closed_at:
            step["at"] = case.closed_at
        elif h.action == "transfer":
            step["to"] = orgs[h.data["to_org"]]
        if h.action == "assign" and h.data.get("mediator"):
            step["mediator"] = users.get(h.data["mediator"], "")
        if h.action == "refer":
            step["referral"] = case.referral
        if h.note:
            step["note"] = h.note
        if h.actor_name:
            step["by"] = h.actor_name
        step["at"] = iso(step["at"])
        steps.append(step)
    transfers = [s for s, h in zip(steps, history, strict=True) if h.action == "transfer"]
    if transfers and case.transferred_at:
        transfers[-1]["at"] = iso(case.transferred_at)
    return steps


def _party_row(p, reveal: bool) -> dict:
    row = {"side": p.side, "kind": p.kind, "name": p.name, "address": p.address}
    if p.credit_code:
        row["credit_code"] = p.credit_code
    if p.legal_representative:
        row["legal_representative"] = p.legal_representative
    if p.id_number:
        row.update({"id_number": decrypt(p.id_number)} if reveal else {"id_number_masked": p.id_number_masked})
    if p.phone:
        row.update({"phone": decrypt(p.phone)} if reveal else {"phone_masked": p.phone_masked})
    return row
