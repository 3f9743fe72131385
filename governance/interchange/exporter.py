"""Export of a subtree and date range in the interchange format (docs/import-format.md).

Rows are read through `restrict(user)` and streamed in pk order, a chunk at a time. Personal
data is written in clear only when the caller holds event.reveal_contact / case.reveal_party
(or is an unrestricted operator); otherwise masked, under `*_masked` keys that an import keeps
as masked text. Timeline moments that the row itself keeps (reported_at, responded_at, …) are
taken from the row, so that importing an export reproduces the stored fields exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from django.db.models import Q
from django.utils import timezone

from governance import audit
from governance.choices import AuditAction
from governance.personal_data import decrypt, mask_phone

from .base import DEFAULT_SOURCE, FORMAT_NAME, FORMAT_VERSION
from .records_disputes import RISK_NAMES

CHUNK = 1000


def _may(user, capability: str) -> bool:
    return user is None or user.can(capability)


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def _line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _chunks(queryset):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _restricted(model, user):
    return model.objects.all() if user is None else model.objects.restrict(user)


def export_records(
    *, code: str, start: dt.date, end: dt.date, user=None, source: str = DEFAULT_SOURCE
) -> Iterator[str]:
    """The lines of an export of region `code`'s subtree, records dated start..end (local dates)."""
    from grids.models import Region

    if not _restricted(Region, user).filter(code=code).exists():
        raise PermissionError(code)
    reveal_contact, reveal_party = _may(user, "event.reveal_contact"), _may(user, "case.reveal_party")
    audit.record(
        AuditAction.EXPORT,
        model_label="governance.interchange",
        object_repr=f"records {code} {start}..{end}",
        region_code=code,
        changes={"from": start, "to": end, "unmasked": reveal_contact or reveal_party},
    )
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    hi = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    yield _line({"type": "header", "format": FORMAT_NAME, "version": FORMAT_VERSION, "source": source,
                 "region": code, "from": start.isoformat(), "to": end.isoformat()})  # fmt: skip
    yield from _regions(code, user)
    yield from _directory(code, user)
    yield from _workers(code, user)
    yield from _visits(code, user, start, end)
    yield from _events(code, user, lo, hi, reveal_contact)
    yield from _cases(code, user, lo, hi, reveal_party)
    yield from _inputs(code, user, start, end, lo, hi)


def _regions(code, user):
    from grids.models import Region
    from grids.services.regions import export_rows

    if user is None or user.is_superuser:  # the ancestors, so a fresh database can take the subtree
        region = Region.objects.get(code=code)
        yield from (_line({"type": "region", **row}) for row in export_rows(
            Region.objects.filter(code__in=region.ancestors_codes()).order_by("code")))  # fmt: skip
    for chunk in _chunks(_restricted(Region, user).under(code)):
        for row in export_rows(chunk):
            yield _line({"type": "region", **row})


def _directory(code, user):
    """Departments and mediation organisations of the subtree (events and cases name them)."""
    from disputes.models import MediationOrganisation
    from governance.models import Department

    from .records_grids import DEPARTMENT_KIND_WORDS

    for chunk in _chunks(_restricted(Department, user).filter(region__code__under=code).select_related("region")):
        for d in chunk:
            yield _line({"type": "department", "region": d.region.code, "name": d.name,
                         "kind": DEPARTMENT_KIND_WORDS[d.kind], "active": d.is_active})  # fmt: skip
    orgs = _restricted(MediationOrganisation, user).filter(region__code__under=code)
    hosts_first = sorted(
        (o for chunk in _chunks(orgs.select_related("region", "department__region", "host__region")) for o in chunk),
        key=lambda o: (o.host_id is not None, o.pk),
    )
    for o in hosts_first:
        row = {"type": "mediation_organisation", "region": o.region.code, "name": o.name, "kind": o.kind,
               "trade": o.trade, "active": o.is_active}  # fmt: skip
        if o.department_id:
            row["department"] = {"region": o.department.region.code, "name": o.department.name}
        if o.host_id:
            row["host"] = _org(o.host)
        yield _line(row)


def _worker_id(worker) -> str:
    return f"gw-{worker.pk}"


def _workers(code, user):
    from grids.models import GridWorker

    qs = _restricted(GridWorker, user).filter(grid__code__under=code).select_related("grid", "user")
    for chunk in _chunks(qs):
        for w in chunk:
            yield _line({"type": "grid_worker", "id": _worker_id(w), "grid": w.grid.code, "name": w.name,
                         "full_time": w.is_full_time, "started_on": _iso(w.started_on), "ended_on": _iso(w.ended_on),
                         "account": w.user.username if w.user_id else ""})  # fmt: skip


def _worker_ids(user_ids) -> dict[int, str]:
    from grids.models import GridWorker

    return {
        u: f"gw-{pk}" for pk, u in GridWorker.objects.filter(user_id__in=set(user_ids)).values_list("pk", "user_id")
    }


def _visits(code, user, start, end):
    from grids.events.models import VisitRecord

    qs = _restricted(VisitRecord, user).filter(grid__code__under=code, date__range=(start, end)).select_related("grid")
    for chunk in _chunks(qs):
        workers = _worker_ids(v.worker_id for v in chunk)
        for v in chunk:
            yield _line({"type": "visit", "id": f"visit-{v.pk}", "worker": workers.get(v.worker_id, ""),
                         "grid": v.grid.code, "date": _iso(v.date), "households": v.households_visited,
                         "notes": v.notes})  # fmt: skip


def _department(pk, cache):
    from governance.models import Department

    if pk not in cache:
        d = Department.objects.select_related("region").get(pk=pk)
        cache[pk] = {"region": d.region.code, "name": d.name}
    return cache[pk]


def _event_timeline(event, history, departments, merged) -> list[dict]:
    from grids.events.transitions import TRANSITIONS

    from .records_grids import level_word

    history = [h for h in history if h.action == "report" or h.action in TRANSITIONS]  # not "absorb"

    steps = []
    answered = False
    resolves = [h for h in history if h.action == "resolve"]
    last = {h.action: h for h in history}
    for h in history:
        step = {"action": h.action, "at": h.at}
        if h.action == "report":
            step["at"] = event.reported_at
        elif h.action in ("accept", "return") and not answered:
            answered, step["at"] = True, event.responded_at or h.at
        if h.action in ("return", "close", "convert") and event.closed_at:
            step["at"] = event.closed_at
        elif h.action == "resolve":
            if h is resolves[0] and event.first_resolved_at:
                step["at"] = event.first_resolved_at
            if h is resolves[-1] and event.resolved_at:
                step["at"] = event.resolved_at
            step["resolution"] = event.resolution
            step["level"] = level_word(h.data.get("level") or _level_at(history, h))
        elif h.action in ("verify", "feedback", "reopen") and h is last[h.action]:
            step["at"] = {"verify": event.verified_at, "feedback": event.feedback_at, "reopen": event.reopened_at}[
                h.action
            ] or h.at
        if h.action == "feedback":
            step["feedback"] = event.feedback
        if h.action == "merge" and event.merged_into_id:
            step["into"] = merged.get(event.merged_into_id, "")
        if h.action == "dispatch":
            step["lead"] = _department(h.data["lead"], departments)
            step["collaborators"] = [_department(pk, departments) for pk in h.data.get("collaborators", [])]
        if h.note and h.action not in ("report",):
            step["note"] = h.note
        if h.actor_name:
            step["by"] = h.actor_name
        step["at"] = _iso(step["at"])
        steps.append(step)
    return steps


def _level_at(history, resolve) -> int:
    level = 5  # village: where every event starts
    for h in history:
        if h is resolve:
            return level
        if h.action == "escalate":
            level = h.data.get("to_level", level - 1)
    return level


def _events(code, user, lo, hi, reveal):
    from governance.models import User
    from grids.events.models import EventHistory, GridEvent

    qs = _restricted(GridEvent, user).filter(region_code__under=code, reported_at__gte=lo, reported_at__lt=hi)
    departments: dict = {}
    for chunk in _chunks(qs.select_related("category")):
        history: dict[int, list] = {}
        for h in EventHistory.objects.filter(event__in=chunk).order_by("at", "pk"):
            history.setdefault(h.event_id, []).append(h)
        workers = _worker_ids(e.reporter_id for e in chunk if e.reporter_id)
        merged = {  # the id of the event a duplicate was merged into
            pk: str(uuid)
            for pk, uuid in GridEvent.objects.filter(pk__in={e.merged_into_id for e in chunk} - {None}).values_list(
                "pk", "client_uuid"
            )
        }
        accounts = dict(
            User.objects.filter(pk__in={e.reporter_id for e in chunk} - {None}).values_list("pk", "username")
        )
        for e in chunk:
            phone = decrypt(e.contact_phone)
            row = {"type": "event", "id": str(e.client_uuid), "uuid": str(e.client_uuid), "category": e.category.code,
                   "title": e.title, "description": e.description, "urgency": e.urgency, "source": e.source,
                   "region": e.region_code, "address": e.address, "lat": e.lat, "lng": e.lng,
                   "reporter": workers.get(e.reporter_id, ""), "reporter_name": e.reporter_name}  # fmt: skip
            if e.reporter_id and e.reporter_id not in workers:
                row["reporter_account"] = accounts[e.reporter_id]
            if phone:
                row["contact_phone" if reveal else "contact_phone_masked"] = phone if reveal else mask_phone(phone)
            row["timeline"] = _event_timeline(e, history.get(e.pk, []), departments, merged)
            yield _line(row)


def _org(org) -> dict:
    return {"region": org.region.code, "name": org.name}


def _case_timeline(case, history, orgs, users) -> list[dict]:
    from disputes.transitions import TRANSITIONS

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
        step["at"] = _iso(step["at"])
        steps.append(step)
    transfers = [s for s, h in zip(steps, history, strict=True) if h.action == "transfer"]
    if transfers and case.transferred_at:
        transfers[-1]["at"] = _iso(case.transferred_at)
    return steps


def _party(p, reveal: bool) -> dict:
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


def _cases(code, user, lo, hi, reveal):
    from disputes.models import Case, CaseHistory, MediationOrganisation
    from governance.models import User

    qs = _restricted(Case, user).filter(region_code__under=code, registered_at__gte=lo, registered_at__lt=hi)
    qs = qs.select_related("organisation__region", "origin_region", "origin_event").prefetch_related(
        "parties", "sessions", "follow_ups", "agreement", "confirmation"
    )
    for chunk in _chunks(qs):
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
            row = {"type": "case", "id": c.number, "number": c.number, "organisation": orgs[first_org],
                   "origin_region": c.origin_region.code,
                   "origin_event": str(c.origin_event.client_uuid) if c.origin_event_id else "",
                   "dispute_type": c.dispute_type, "risk": RISK_NAMES[c.risk_level],
                   "people_involved": c.people_involved, "largest_side": c.largest_side, "title": c.title,
                   "facts": c.facts, "parties": [_party(p, reveal) for p in c.parties.all()],
                   "timeline": _case_timeline(c, steps, orgs, users),
                   "sessions": [{"held_on": _iso(s.held_on), "place": s.place, "attendees": s.attendees,
                                 "notes": s.notes} for s in c.sessions.all()],
                   "follow_ups": [{"visited_on": _iso(f.visited_on), "fulfilment": f.fulfilment,
                                   "satisfaction": f.satisfaction, "notes": f.notes} for f in c.follow_ups.all()]}  # fmt: skip
            agreement = getattr(c, "agreement", None) if hasattr(c, "agreement") else None
            if agreement is not None:
                row["agreement"] = {"terms": agreement.terms, "signed_on": _iso(agreement.signed_on),
                                    "amount": str(agreement.amount) if agreement.amount is not None else None,
                                    "performance_deadline": _iso(agreement.performance_deadline)}  # fmt: skip
            confirmation = getattr(c, "confirmation", None) if hasattr(c, "confirmation") else None
            if confirmation is not None:
                row["confirmation"] = {"court": confirmation.court, "applied_on": _iso(confirmation.applied_on),
                                       "decided_on": _iso(confirmation.decided_on), "decision": confirmation.decision}  # fmt: skip
            yield _line(row)


def _inputs(code, user, start, end, lo, hi):
    from assessment.models import (
        REPORT_VALUE_FIELDS,
        AssessorScore,
        InnovationAward,
        MonthlyReport,
        RectificationItem,
        SurveyResponse,
        VetoRuling,
    )

    # a table counts where it is due: December's table is due (and assessed) in January
    reports = _restricted(MonthlyReport, user).filter(
        Q(month__range=(start.replace(day=1), end)) | Q(deadline__gte=lo, deadline__lt=hi), region_code__under=code
    )
    for chunk in _chunks(reports):
        for r in chunk:
            values = {name: getattr(r, name) for name in REPORT_VALUE_FIELDS}
            values["funding_yuan"] = str(values["funding_yuan"])
            yield _line({"type": "monthly_report", "id": f"{r.region_code}-{r.month:%Y-%m}", "township": r.region_code,
                         "month": f"{r.month:%Y-%m}", "submitted_at": _iso(r.submitted_at), "values": values})  # fmt: skip
    answers = _restricted(SurveyResponse, user).filter(region_code__under=code, answered_at__gte=lo, answered_at__lt=hi)
    for chunk in _chunks(answers):
        for a in chunk:
            yield _line({"type": "survey_answer", "id": a.client_key, "village": a.region_code, "channel": a.channel,
                         "answered_at": _iso(a.answered_at), "safety": a.safety, "satisfaction": a.satisfaction,
                         "awareness": a.awareness, "household": a.household})  # fmt: skip
    vetoes = _restricted(VetoRuling, user).filter(region_code__under=code, occurred_on__range=(start, end))
    for chunk in _chunks(vetoes.select_related("recorded_by")):
        for v in chunk:
            yield _line({"type": "veto_ruling", "id": f"veto-{v.pk}", "unit": v.region_code, "indicator": v.indicator,
                         "occurred_on": _iso(v.occurred_on), "description": v.description, "status": v.status,
                         "appeal_reason": v.appeal_reason, "decision_note": v.decision_note,
                         "recorded_by": v.recorded_by.username, "recorded_at": _iso(v.recorded_at)})  # fmt: skip
    awards = _restricted(InnovationAward, user).filter(region_code__under=code, year__range=(start.year, end.year))
    for chunk in _chunks(awards.select_related("awarded_by")):
        for a in chunk:
            yield _line({"type": "innovation_award", "id": f"{a.region_code}-{a.year}", "unit": a.region_code,
                         "year": a.year, "points": str(a.points), "reason": a.reason,
                         "awarded_by": a.awarded_by.username})  # fmt: skip
    scores = _restricted(AssessorScore, user).filter(region_code__under=code, cycle__year__range=(start.year, end.year))
    for chunk in _chunks(scores.select_related("cycle__root", "group", "scored_by")):
        for s in chunk:
            cycle = {"kind": s.cycle.kind, "year": s.cycle.year, "quarter": s.cycle.quarter, "root": s.cycle.root.code}
            yield _line({"type": "assessor_score", "id": f"score-{s.pk}", "cycle": cycle, "group": s.group.name,
                         "unit": s.region_code, "indicator": s.indicator, "score": str(s.score), "note": s.note,
                         "scored_by": s.scored_by.username if s.scored_by_id else "",
                         "scored_at": _iso(s.scored_at)})  # fmt: skip

    items = _restricted(RectificationItem, user).filter(
        region_code__under=code, cycle__year__range=(start.year, end.year)
    )
    for chunk in _chunks(items.select_related("cycle__root", "closed_by")):
        for item in chunk:
            yield _line(_rectification(item))


def _rectification(item) -> dict:
    """An item with its ledger as the fields keep it (a return leaves only its audit entry)."""
    from disputes.services import deadline_end

    cycle = item.cycle
    ledger = []
    if item.reported_at:
        ledger.append({"action": "report", "at": _iso(item.reported_at), "report": item.report})
    if item.closed_on:
        closed = min(deadline_end(item.closed_on), timezone.now())
        ledger.append(
            {"action": "close", "at": _iso(closed), "by": item.closed_by.username if item.closed_by_id else ""}
        )
    return {"type": "rectification_item", "id": f"rectification-{item.pk}",
            "cycle": {"kind": cycle.kind, "year": cycle.year, "quarter": cycle.quarter, "root": cycle.root.code},
            "unit": item.region_code, "indicator": item.indicator, "ratio": str(item.ratio),
            "opened_on": _iso(timezone.localtime(cycle.finalised_at).date()) if cycle.finalised_at else None,
            "ledger": ledger}  # fmt: skip
