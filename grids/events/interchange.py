"""The grid events' record types of the interchange (docs/import-format.md): visit and event (with
its whole timeline, replayed through grids.events.transitions and grids.events.lifecycle). Registered by
GridsConfig.ready()."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.bulk import insert_objects, write_rows
from governance.codes import Level
from governance.interchange.base import Context, Prepared, RecordType, Rejected, day, integer, register, text, word
from governance.interchange.department import department, department_ref
from governance.interchange.exporter import iso
from governance.interchange.records import HISTORY_COLUMNS, check_move, history_row, rejected_step, timeline_steps
from governance.models import User
from governance.personal_data import blind_index, decrypt, encrypt, mask_phone
from grids.events import lifecycle
from grids.events.choices import DispatchRole, DispatchState, EventSource, EventStatus, LimitUnit, Urgency
from grids.events.models import (
    EventCategory,
    EventDispatch,
    EventHistory,
    GridEvent,
    VisitRecord,
    WithdrawnResolution,
)
from grids.events.sla import add_limit, limits_for
from grids.events.transitions import TRANSITIONS
from grids.interchange import (
    LEVEL_NAMES,
    LEVEL_WORDS,
    check_worker,
    level_word,
    load_workers,
    worker_ids,
    worker_user_id,
)
from grids.models import Region


@register
class VisitRecordType(RecordType):
    """走访记录 of a grid worker (who needs a platform account)."""

    kind = "visit"
    model = VisitRecord
    position = 50
    region_keys = ("grid",)

    def prefetch(self, rows, ctx):
        super().prefetch(rows, ctx)
        load_workers(ctx, (text(r, "worker") for r in rows))

    def validate(self, row, ctx):
        grid = ctx.region(row, "grid", levels=["grid"])
        worker = check_worker(row, "worker", ctx, required=True)
        values = {
            "grid": grid,
            "worker": worker,
            "date": day(row, "date"),
            "households_visited": integer(row, "households"),
            "notes": text(row, "notes", max_length=2000),
        }
        in_file = ctx.refs.get(("grid_worker", worker), (None,))[0] is None
        if in_file and ("worker_without_account", worker) in ctx.file_keys:
            no_account = True
        else:
            values["worker_user"] = None if in_file else worker_user_id(ctx, worker)
            no_account = not in_file and values["worker_user"] is None
        if no_account:
            raise Rejected({"worker": [_("该网格员没有平台账号（account），无法记录走访。")]})
        return Prepared("", "", "", grid if isinstance(grid, str) else grid.code, 0, values)

    def write(self, batch, ctx):
        rows = [
            VisitRecord(
                grid=p.values["grid"],
                worker_id=p.values["worker_user"],
                date=p.values["date"],
                households_visited=p.values["households_visited"],
                notes=p.values["notes"],
            )
            for p in batch
        ]
        VisitRecord.objects.bulk_create(rows)
        return [r.pk for r in rows]

    def export(self, scope):
        visits = scope.restricted(VisitRecord).filter(
            grid__code__under=scope.code, date__range=(scope.start, scope.end)
        )
        for chunk in scope.chunks(visits.select_related("grid")):
            workers = worker_ids(v.worker_id for v in chunk)
            for v in chunk:
                yield {"id": f"visit-{v.pk}", "worker": workers.get(v.worker_id, ""), "grid": v.grid.code,
                       "date": iso(v.date), "households": v.households_visited, "notes": v.notes}  # fmt: skip


# --- Events ------------------------------------------------------------------------------------------------


class SlaRules:
    """The same limits and deadlines as live entry (grids.events.sla), memoised for one import."""

    def __init__(self) -> None:
        self._limits: dict = {}
        self._deadlines: dict = {}

    def limits(self, category, urgency: str):
        key = (category.pk, urgency)
        if key not in self._limits:
            self._limits[key] = limits_for(category, urgency)
        return self._limits[key]

    def deadline(self, start: dt.datetime, limit) -> dt.datetime:
        """grids.events.sla.add_limit; day-based limits depend only on the local start date, so they are
        computed once per date (each computation reads the calendar exceptions)."""
        if limit.unit == LimitUnit.HOURS:
            return add_limit(start, limit)
        key = (timezone.localtime(start).date(), limit)
        if key not in self._deadlines:
            self._deadlines[key] = add_limit(start, limit)
        return self._deadlines[key]


def sla_rules(ctx: Context) -> SlaRules:
    rules = ctx.memo.get("sla")
    if rules is None:
        rules = ctx.memo["sla"] = SlaRules()
    return rules


class MemoryDispatches(list):
    """An imported event's dispatches, kept in memory until the event is written (grids.events.lifecycle)."""

    def close_open(self) -> None:
        for d in self:
            if d.state in (DispatchState.PENDING, DispatchState.ACCEPTED):
                d.state = DispatchState.CLOSED

    def close_pending(self) -> None:
        for d in self:
            if d.state == DispatchState.PENDING:
                d.state = DispatchState.CLOSED

    def add(self, department, role: str, at) -> None:
        self.append(EventDispatch(department=department, role=role, dispatched_at=at, state=DispatchState.PENDING))

    def set_lead(self, **values) -> None:
        lead = next(d for d in reversed(self) if d.role == DispatchRole.LEAD)
        for name, value in values.items():
            setattr(lead, name, value)


def replay_event(event, timeline, ctx: Context):
    """Walk an event's timeline through grids.events.transitions, each step applied by grids.events.lifecycle
    (the effects the live services have) at the step's moment. Fills the unsaved `event` and
    returns its history rows, its dispatches, the event it was merged into (external id) and the
    resolutions its reopenings withdrew."""
    history, dispatches, merged_into, withdrawn = [], MemoryDispatches(), "", []
    actor = ctx.import_actor
    for index, key, step, action, at in timeline_steps(timeline, "report"):
        note = text(step, "note")
        if index == 0:
            event.reported_at, event.status = at, EventStatus.REPORTED
            history.append(history_row("report", "", EventStatus.REPORTED, at, step, note, {}, actor=actor))
            continue
        before = event.status
        check_move(TRANSITIONS, action, before, key)
        inputs = _step_inputs(action, step, note, event, ctx, key)
        if action == "merge":
            merged_into = inputs.pop("external_into")
        try:
            effect = lifecycle.apply(event, action, at=at, dispatches=dispatches, **inputs)
        except ValidationError as exc:
            raise rejected_step(exc, key) from exc
        data = {k: v for k, v in effect.data.items() if k != "into"}
        history.append(history_row(action, before, event.status, at, step, effect.note or note, data, actor=actor))
        if effect.withdrawn:
            withdrawn.append(effect.withdrawn)
    return history, dispatches, merged_into, withdrawn


def _step_inputs(action, step, note, event, ctx: Context, key) -> dict:
    """What the step's service takes, read from the timeline step."""
    inputs = {"note": note, "reason": note}
    if action == "dispatch":
        inputs["lead"] = department(ctx, step.get("lead"), f"{key}.lead")
        others = step.get("collaborators") or []
        if not isinstance(others, list):
            raise Rejected({f"{key}.collaborators": [_("协办部门应为列表。")]})
        inputs["collaborators"] = [department(ctx, d, f"{key}.collaborators") for d in others]
    elif action == "resolve":
        level = text(step, "level")
        if level and LEVEL_WORDS.get(level) != event.handling_level:
            raise Rejected({f"{key}.level": [_("化解层级“%(l)s”与时间线中的受理层级（%(h)s）不符：请补充上报上级（escalate）步骤。") % {"l": level, "h": LEVEL_NAMES[event.handling_level]}]})  # fmt: skip
        sla = sla_rules(ctx)
        inputs.update(resolution=text(step, "resolution") or note, deadline=sla.deadline, limits=sla.limits)
    elif action == "feedback":
        inputs["feedback"] = text(step, "feedback")
    elif action == "merge":
        into = text(step, "into")
        if not into or not ctx.ref_exists("event", into):
            raise Rejected(
                {f"{key}.into": [_("合并目标事件“%(id)s”不存在（应在本文件中先出现或已导入）。") % {"id": into}]}
            )
        inputs["external_into"] = into
        # the id once written; an event earlier in the same chunk gets its id when the chunk is written
        inputs["into"] = ctx.refs.get(("event", into), (None,))[0]
    return inputs


URGENCIES, SOURCES = Urgency.values, EventSource.values  # built once: each .values builds the choices


@register
class EventRecord(RecordType):
    """网格事件 with its whole timeline."""

    kind = "event"
    model = GridEvent
    position = 60
    region_keys = ("region",)
    reveal_capability = "event.reveal_contact"

    def prefetch(self, rows, ctx):
        super().prefetch(rows, ctx)
        load_workers(ctx, (text(r, "reporter") for r in rows))

    def validate(self, row, ctx):
        region = ctx.region(row, "region", levels=["village", "grid"])
        code = region if isinstance(region, str) else region.code
        slug = text(row, "category", required=True)
        category = ctx.cached(("category", slug), lambda: EventCategory.objects.filter(code=slug).first())
        if category is None:
            raise Rejected({"category": [_("事件类别“%(c)s”不存在。") % {"c": slug}]})
        urgency = word(row, "urgency", URGENCIES, default=Urgency.NORMAL)
        source = word(row, "source", SOURCES)
        client_uuid = text(row, "uuid")
        if client_uuid:
            try:
                client_uuid = uuid.UUID(client_uuid)
            except ValueError as exc:
                raise Rejected({"uuid": [_("不是有效的UUID。")]}) from exc
            if GridEvent.objects.filter(client_uuid=client_uuid).exists():
                raise Rejected({"uuid": [_("该UUID已被平台上的其他事件使用。")]})
        reporter = check_worker(row, "reporter", ctx, required=False)
        account = text(row, "reporter_account")
        if account:
            reporter_user = ctx.account(account, "reporter_account")
        phone = text(row, "contact_phone", max_length=30)
        event = GridEvent(
            client_uuid=client_uuid or uuid.uuid4(),
            category=category,
            title=text(row, "title", required=True, max_length=100),
            description=text(row, "description", required=True, max_length=4000),
            urgency=urgency,
            source=source,
            region_code=code,
            handling_level=Level.VILLAGE,
            address=text(row, "address", max_length=200),
            lat=row.get("lat"),
            lng=row.get("lng"),
            reporter_name=text(row, "reporter_name", max_length=50),
            contact_phone=encrypt(phone),
            contact_phone_index=blind_index(phone),
        )
        if isinstance(region, Region):
            event.region = region
        history, dispatches, merged_into, withdrawn = replay_event(event, row.get("timeline"), ctx)
        sla = sla_rules(ctx)
        limits = sla.limits(category, urgency)
        event.respond_deadline = sla.deadline(event.reported_at, limits.respond)
        event.resolve_deadline = sla.deadline(event.reported_at, limits.resolve)
        if ctx.phase == "write" and reporter:
            event.reporter_id = worker_user_id(ctx, reporter)
        elif account:
            event.reporter_id = reporter_user.pk
        values = {
            "event": event, "history": history, "dispatches": dispatches, "merged_into": merged_into,
            "withdrawn": withdrawn,
        }  # fmt: skip
        return Prepared("", "", "", code, 0, values)

    def write(self, batch, ctx):
        events = [p.values["event"] for p in batch]
        insert_objects(GridEvent, events)
        in_batch = {p.external_id: p.values["event"] for p in batch}
        pending = [p.values for p in batch if p.values["merged_into"] and p.values["event"].merged_into_id is None]
        for values in pending:
            values["event"].merged_into_id = in_batch[values["merged_into"]].pk
        GridEvent.objects.bulk_update([v["event"] for v in pending], ["merged_into"])
        history, dispatches, withdrawn = [], [], []
        for event, p in zip(events, batch, strict=True):
            history += [(event.pk, *h.values()) for h in p.values["history"]]
            for dispatch in p.values["dispatches"]:
                dispatch.event = event
                dispatches.append(dispatch)
            withdrawn += [WithdrawnResolution(event=event, **w) for w in p.values["withdrawn"]]
        history += self._absorbed(batch, ctx)
        write_rows(EventHistory, HISTORY_COLUMNS, history)
        insert_objects(EventDispatch, dispatches)
        insert_objects(WithdrawnResolution, withdrawn)
        return [e.pk for e in events]

    @staticmethod
    def _absorbed(batch, ctx) -> list:
        """The target's side of each merge ("absorb", as event_merge records it)."""
        merges = [p for p in batch if p.values["merged_into"]]
        if not merges:
            return []
        targets = {p.values["event"].merged_into_id for p in merges}
        status = dict(GridEvent.objects.filter(pk__in=targets).values_list("pk", "status"))
        rows = []
        for p in merges:
            event = p.values["event"]
            target = event.merged_into_id
            rows.append((target, *history_row("absorb", status[target], status[target], event.closed_at, {}, "",
                                              {"merged": event.pk}, actor=ctx.import_actor).values()))  # fmt: skip
        return rows

    def export(self, scope):
        reveal = scope.may(self.reveal_capability)
        events = scope.restricted(GridEvent).filter(
            region_code__under=scope.code, reported_at__gte=scope.lo, reported_at__lt=scope.hi
        )
        departments: dict = {}
        for chunk in scope.chunks(events.select_related("category")):
            history: dict[int, list] = {}
            for h in EventHistory.objects.filter(event__in=chunk).order_by("at", "pk"):
                history.setdefault(h.event_id, []).append(h)
            workers = worker_ids(e.reporter_id for e in chunk if e.reporter_id)
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
                row = {"id": str(e.client_uuid), "uuid": str(e.client_uuid), "category": e.category.code,
                       "title": e.title, "description": e.description, "urgency": e.urgency, "source": e.source,
                       "region": e.region_code, "address": e.address, "lat": e.lat, "lng": e.lng,
                       "reporter": workers.get(e.reporter_id, ""), "reporter_name": e.reporter_name}  # fmt: skip
                if e.reporter_id and e.reporter_id not in workers:
                    row["reporter_account"] = accounts[e.reporter_id]
                if phone:
                    row["contact_phone" if reveal else "contact_phone_masked"] = phone if reveal else mask_phone(phone)
                row["timeline"] = _event_timeline(e, history.get(e.pk, []), departments, merged)
                yield row


def _event_timeline(event, history, departments, merged) -> list[dict]:
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
            step["lead"] = department_ref(h.data["lead"], departments)
            step["collaborators"] = [department_ref(pk, departments) for pk in h.data.get("collaborators", [])]
        if h.note and h.action not in ("report",):
            step["note"] = h.note
        if h.actor_name:
            step["by"] = h.actor_name
        step["at"] = iso(step["at"])
        steps.append(step)
    return steps


def _level_at(history, resolve) -> int:
    level = Level.VILLAGE  # where every event starts
    for h in history:
        if h is resolve:
            return level
        if h.action == "escalate":
            level = h.data.get("to_level", level - 1)
    return level
