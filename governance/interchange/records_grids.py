"""Record types of the hierarchy and grid events: region, grid_worker, event, visit."""

from __future__ import annotations

import uuid

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from governance.bulk import write_rows
from governance.choices import Role
from governance.personal_data import blind_index, encrypt
from grids.choices import CODE_LENGTH, Level
from grids.events.choices import DispatchRole, DispatchState, EventSource, EventStatus, Urgency
from grids.events.transitions import TRANSITIONS
from grids.models import Region

from .base import Context, Prepared, RecordType, Rejected, Unchanged, day, integer, moment, register, text, word

LEVEL_WORDS = {
    "province": Level.PROVINCE,
    "city": Level.CITY,
    "county": Level.COUNTY,
    "township": Level.TOWNSHIP,
    "village": Level.VILLAGE,
    "grid": Level.GRID,
}
LEVEL_NAMES = {v: k for k, v in LEVEL_WORDS.items()}


@register
class RegionRecord(RecordType):
    """Regions, checked and written by the region import of grids.services.regions."""

    kind = "region"
    model_label = "grids.region"
    id_key = "code"
    uses_refs = False

    def prefetch(self, rows, ctx):
        ctx.load_regions(r.get("code") for r in rows)

    def validate(self, row: dict, ctx: Context) -> Prepared:
        from grids.services.regions import RowError, export_rows, parse_row

        try:
            values = parse_row(row)
        except RowError as exc:
            raise Rejected(exc.errors) from exc
        existing = ctx.regions.get(values["code"])
        if existing is not None and parse_row(next(export_rows([existing]))) == values:
            raise Unchanged  # e.g. the ancestors at the top of an export, or a second import
        if not ctx.allowed(values["code"]):
            raise Rejected({"code": [_("该区划不在您的管辖范围内。")]})
        ctx.file_regions.add(values["code"])
        return Prepared("", "", "", values["code"], 0, {"row": row})

    def write(self, batch, ctx):
        from grids.services.regions import import_regions

        report = import_regions(rows=[(p.line, p.values["row"]) for p in batch], acting_user=ctx.user, bulk=True)
        if report.rejected:
            raise Rejected({"code": [str(report.rejected[0].errors)]})
        ctx.regions.clear()
        return [0] * len(batch)


class DirectoryRecord(RecordType):
    """A department or mediation organisation, known by its region and name (which is its identity,
    as a region's code is): one already on the platform with the same content is left unchanged,
    one with other content is refused (the import never edits the platform's directory)."""

    uses_refs = False
    region_keys = ("region",)
    id_key = "name"
    placeholder = ""

    def identity(self, row: dict) -> str:
        return f"{str(row.get('region', '')).strip()}/{str(row.get('name', '')).strip()}".strip("/")

    def fields(self, row: dict, ctx: Context, region) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def validate(self, row, ctx):
        region = ctx.region(row, "region", levels=self.levels)
        name = text(row, "name", required=True, max_length=100)
        values = self.fields(row, ctx, region)
        code = region if isinstance(region, str) else region.code
        model = apps.get_model(self.model_label)
        existing = None if isinstance(region, str) else model.objects.filter(region=region, name=name).first()
        if existing is not None:
            differing = sorted(k for k, v in values.items() if getattr(existing, k) != v)
            if differing:
                raise Rejected({differing[0]: [_("“%(name)s”已在平台上，内容不同（导入不修改平台上的已有记录）。") % {"name": name}]})  # fmt: skip
            raise Unchanged
        ctx.file_keys.add((self.placeholder, code, name))
        return Prepared("", "", "", code, 0, {"region": region, "name": name, **values})


@register
class DepartmentRecord(DirectoryRecord):
    """职能部门 that events are dispatched to: `region, name, kind, active`."""

    kind = "department"
    model_label = "governance.department"
    placeholder = "department"
    levels = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP]

    def fields(self, row, ctx, region):
        kind = word(row, "kind", DEPARTMENT_KINDS)
        return {"kind": DEPARTMENT_KINDS[kind], "is_active": bool(row.get("active", True))}


def _department_kinds() -> dict[str, str]:
    from governance.choices import DepartmentKind

    return {member.name.lower(): member.value for member in DepartmentKind}


DEPARTMENT_KINDS = _department_kinds()
DEPARTMENT_KIND_WORDS = {v: k for k, v in DEPARTMENT_KINDS.items()}


@register
class GridWorkerRecord(RecordType):
    """网格员; `account` names the platform user (created inactive when it does not exist yet)."""

    kind = "grid_worker"
    model_label = "grids.gridworker"
    region_keys = ("grid",)

    def prefetch(self, rows, ctx):
        from governance.models import User

        super().prefetch(rows, ctx)
        names = {text(r, "account") for r in rows} - {""}
        ctx.cache.update({("user", u.username): u for u in User.objects.filter(username__in=names)})

    def validate(self, row, ctx):
        from grids.models import GridWorker

        grid = ctx.region(row, "grid", levels=[Level.GRID])
        started = day(row, "started_on")
        ended = day(row, "ended_on", required=False)
        if ended and ended < started:
            raise Rejected({"ended_on": [_("离岗日期不能早于到岗日期。")]})
        account = text(row, "account", max_length=150)
        if not account:  # such a worker's visits cannot be recorded (see VisitRecordType)
            ctx.file_keys.add(("worker_without_account", text(row, "id")))
        user = ctx.cache.get(("user", account)) if account else None
        if user is not None and GridWorker.objects.filter(user=user).exists():
            raise Rejected({"account": [_("账号“%(u)s”已关联其他网格员。") % {"u": account}]})
        if (
            user is not None
            and user.region_id
            and isinstance(grid, Region)
            and not grid.code.startswith(user.region.code)
        ):
            raise Rejected({"account": [_("账号“%(u)s”不属于该网格。") % {"u": account}]})
        values = {
            "grid": grid,
            "name": text(row, "name", required=True, max_length=50),
            "is_full_time": bool(row.get("full_time", True)),
            "started_on": started,
            "ended_on": ended,
            "account": account,
            "user": user,
        }
        code = grid if isinstance(grid, str) else grid.code
        return Prepared("", "", "", code, 0, values)

    def write(self, batch, ctx):
        from governance.models import User
        from grids.models import GridWorker
        from grids.services.regions import recount_fulltime_workers

        new_users = [
            User(
                username=p.values["account"],
                display_name=p.values["name"],
                role=Role.GRID_WORKER,
                region=p.values["grid"],
                is_active=False,
                password=make_password(None),
            )
            for p in batch
            if p.values["account"] and p.values["user"] is None
        ]
        created = {u.username: u for u in User.objects.bulk_create(new_users)}
        workers = []
        for p in batch:
            v = p.values
            user = v["user"] or created.get(v["account"])
            workers.append(
                GridWorker(
                    grid=v["grid"],
                    user=user,
                    name=v["name"],
                    is_full_time=v["is_full_time"],
                    started_on=v["started_on"],
                    ended_on=v["ended_on"],
                )
            )
        GridWorker.objects.bulk_create(workers)
        recount_fulltime_workers(grid_ids={w.grid_id for w in workers})
        return [w.pk for w in workers]


def _worker_user_id(ctx: Context, worker_id: str) -> int | None:
    from grids.models import GridWorker

    pk = ctx.object_id("grid_worker", worker_id)
    return ctx.cached(
        ("worker_user", pk), lambda: GridWorker.objects.filter(pk=pk).values_list("user_id", flat=True).first()
    )


def _load_workers(ctx: Context, ids) -> None:
    """The references and (once written) the accounts of a chunk's grid workers, in a few queries."""
    from grids.models import GridWorker

    ids = {i for i in ids if i}
    ctx.load_refs("grid_worker", ids)
    if ctx.phase != "write":
        return
    pks = {ctx.refs[("grid_worker", i)][0] for i in ids if ("grid_worker", i) in ctx.refs}
    pks = sorted(pk for pk in pks if ("worker_user", pk) not in ctx.cache)
    for start in range(0, len(pks), 500):
        found = dict(GridWorker.objects.filter(pk__in=pks[start : start + 500]).values_list("pk", "user_id"))
        for pk in pks[start : start + 500]:
            ctx.cache[("worker_user", pk)] = found.get(pk)


def _check_worker(row: dict, key: str, ctx: Context, *, required: bool) -> str:
    worker = text(row, key, required=required)
    if worker and not ctx.ref_exists("grid_worker", worker):
        raise Rejected({key: [_("网格员“%(id)s”不存在（应先在grid_worker一节导入）。") % {"id": worker}]})
    return worker


@register
class VisitRecordType(RecordType):
    """走访记录 of a grid worker (who needs a platform account)."""

    kind = "visit"
    model_label = "grids.visitrecord"
    region_keys = ("grid",)

    def prefetch(self, rows, ctx):
        super().prefetch(rows, ctx)
        _load_workers(ctx, (text(r, "worker") for r in rows))

    def validate(self, row, ctx):
        grid = ctx.region(row, "grid", levels=[Level.GRID])
        worker = _check_worker(row, "worker", ctx, required=True)
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
            values["worker_user"] = None if in_file else _worker_user_id(ctx, worker)
            no_account = not in_file and values["worker_user"] is None
        if no_account:
            raise Rejected({"worker": [_("该网格员没有平台账号（account），无法记录走访。")]})
        return Prepared("", "", "", grid if isinstance(grid, str) else grid.code, 0, values)

    def write(self, batch, ctx):
        from grids.events.models import VisitRecord

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


# --- Events ------------------------------------------------------------------------------------------------

EVENT_ACTIONS = ["report", *TRANSITIONS]
# The field a refused step names in the services, as the timeline spells it.
STEP_FIELDS = {"reason": "note"}


def _department(ctx: Context, value, key: str):
    from governance.models import Department

    if not isinstance(value, dict):
        raise Rejected({key: [_('部门应写作{"region": 区划代码, "name": 名称}。')]})
    region, name = str(value.get("region", "")), str(value.get("name", ""))
    department = ctx.cached(
        ("department", region, name),
        lambda: Department.objects.filter(region__code=region, name=name).first(),
    )
    if department is None and ctx.phase == "validate":
        department = ctx.placeholder("department", region, name)
    if department is None:
        raise Rejected({key: [_("部门“%(name)s”（%(code)s）不存在。") % {"name": name, "code": region}]})
    if not ctx.allowed(region):
        raise Rejected({key: [_("部门“%(name)s”不在您的管辖范围内。") % {"name": name}]})
    return department


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
        from grids.events.models import EventDispatch

        self.append(EventDispatch(department=department, role=role, dispatched_at=at, state=DispatchState.PENDING))

    def set_lead(self, **values) -> None:
        lead = next(d for d in reversed(self) if d.role == DispatchRole.LEAD)
        for name, value in values.items():
            setattr(lead, name, value)


def rejected_step(exc: ValidationError, key: str) -> Rejected:
    """A service's refusal of a timeline step, named by the step's place in the row."""
    if hasattr(exc, "error_dict"):
        return Rejected({f"{key}.{STEP_FIELDS.get(f, f)}": msgs for f, msgs in exc.message_dict.items()})
    return Rejected({key: exc.messages})


def timeline_steps(timeline, first: str | None, *, field: str = "timeline"):
    """(index, key, step, action, at) of a timeline (or a rectification ledger: `field`) whose first
    step is `first`, each no earlier than the one before; raises Rejected on a malformed or
    impossible order. A ledger may be empty (`first` None); a timeline may not."""
    if first is None and timeline in (None, []):
        return
    if not isinstance(timeline, list) or not timeline:
        raise Rejected({field: [_("缺少时间线。")]})
    previous = None
    for index, step in enumerate(timeline):
        key = f"{field}[{index}]"
        if not isinstance(step, dict):
            raise Rejected({key: [_("每一步应为一个对象。")]})
        action = str(step.get("action", ""))
        try:
            at = moment(step, "at")
        except Rejected as exc:
            raise Rejected({f"{key}.at": exc.reasons["at"]}) from exc
        if index == 0 and first is not None and action != first:
            raise Rejected({key: [_("时间线的第一步应为%(first)s。") % {"first": first}]})
        if previous is not None and at < previous:
            raise Rejected(
                {
                    key: [
                        _("“%(a)s”的时间%(at)s早于上一步（%(prev)s），时间线不可能。")
                        % {"a": action, "at": step.get("at"), "prev": previous.isoformat()}
                    ]
                }
            )
        previous = at
        yield index, key, step, action, at


def check_move(transitions, action: str, status: str, key: str):
    transition = transitions.get(action)
    if transition is None:
        raise Rejected({key: [_("未知的操作“%(a)s”。") % {"a": action}]})
    if status not in transition.sources:
        raise Rejected({key: [_("状态“%(s)s”下不能执行“%(a)s”。") % {"s": status, "a": action}]})
    return transition


# The columns of a history row (EventHistory, CaseHistory) after its record's id, in history_row's order.
HISTORY_COLUMNS = ("event_id", "action", "from_status", "to_status", "at", "actor_name", "note", "data")


def history_row(action, before, after, at, step, note, data) -> dict:
    return {"action": action, "from_status": before, "to_status": after, "at": at,
            "actor_name": text(step, "by", max_length=100) or _("历史数据导入"), "note": note, "data": data}  # fmt: skip


def replay_event(event, timeline, ctx: Context):
    """Walk an event's timeline through grids.events.transitions, each step applied by grids.events.lifecycle
    (the effects the live services have) at the step's moment. Fills the unsaved `event` and
    returns its history rows, its dispatches, the event it was merged into (external id) and the
    resolutions its reopenings withdrew."""
    from grids.events import lifecycle

    history, dispatches, merged_into, withdrawn = [], MemoryDispatches(), "", []
    for index, key, step, action, at in timeline_steps(timeline, "report"):
        note = text(step, "note")
        if index == 0:
            event.reported_at, event.status = at, EventStatus.REPORTED
            history.append(history_row("report", "", EventStatus.REPORTED, at, step, note, {}))
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
        history.append(history_row(action, before, event.status, at, step, effect.note or note, data))
        if effect.withdrawn:
            withdrawn.append(effect.withdrawn)
    return history, dispatches, merged_into, withdrawn


def _step_inputs(action, step, note, event, ctx: Context, key) -> dict:
    """What the step's service takes, read from the timeline step."""
    inputs = {"note": note, "reason": note}
    if action == "dispatch":
        inputs["lead"] = _department(ctx, step.get("lead"), f"{key}.lead")
        others = step.get("collaborators") or []
        if not isinstance(others, list):
            raise Rejected({f"{key}.collaborators": [_("协办部门应为列表。")]})
        inputs["collaborators"] = [_department(ctx, d, f"{key}.collaborators") for d in others]
    elif action == "resolve":
        level = text(step, "level")
        if level and LEVEL_WORDS.get(level) != event.handling_level:
            raise Rejected({f"{key}.level": [_("化解层级“%(l)s”与时间线中的受理层级（%(h)s）不符：请补充上报上级（escalate）步骤。") % {"l": level, "h": LEVEL_NAMES[event.handling_level]}]})  # fmt: skip
        inputs.update(resolution=text(step, "resolution") or note, deadline=ctx.deadline, limits=ctx.limits)
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


@register
class EventRecord(RecordType):
    """网格事件 with its whole timeline."""

    kind = "event"
    model_label = "grids.gridevent"
    region_keys = ("region",)

    def prefetch(self, rows, ctx):
        super().prefetch(rows, ctx)
        _load_workers(ctx, (text(r, "reporter") for r in rows))

    def validate(self, row, ctx):
        from grids.events.models import EventCategory, GridEvent

        region = ctx.region(row, "region", levels=[Level.VILLAGE, Level.GRID])
        code = region if isinstance(region, str) else region.code
        slug = text(row, "category", required=True)
        category = ctx.cached(("category", slug), lambda: EventCategory.objects.filter(code=slug).first())
        if category is None:
            raise Rejected({"category": [_("事件类别“%(c)s”不存在。") % {"c": slug}]})
        urgency = word(row, "urgency", Urgency.values, default=Urgency.NORMAL)
        source = word(row, "source", EventSource.values)
        client_uuid = text(row, "uuid")
        if client_uuid:
            try:
                client_uuid = uuid.UUID(client_uuid)
            except ValueError as exc:
                raise Rejected({"uuid": [_("不是有效的UUID。")]}) from exc
            if GridEvent.objects.filter(client_uuid=client_uuid).exists():
                raise Rejected({"uuid": [_("该UUID已被平台上的其他事件使用。")]})
        reporter = _check_worker(row, "reporter", ctx, required=False)
        account = text(row, "reporter_account")
        if account:
            from governance.models import User

            reporter_user = ctx.cached(("user", account), lambda: User.objects.filter(username=account).first())
            if reporter_user is None:
                raise Rejected({"reporter_account": [_("账号“%(u)s”不存在。") % {"u": account}]})
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
        limits = ctx.limits(category, urgency)
        event.respond_deadline = ctx.deadline(event.reported_at, limits.respond)
        event.resolve_deadline = ctx.deadline(event.reported_at, limits.resolve)
        if ctx.phase == "write" and reporter:
            event.reporter_id = _worker_user_id(ctx, reporter)
        elif account:
            event.reporter_id = reporter_user.pk
        values = {
            "event": event, "history": history, "dispatches": dispatches, "merged_into": merged_into,
            "withdrawn": withdrawn,
        }  # fmt: skip
        return Prepared("", "", "", code, 0, values)

    def write(self, batch, ctx):
        from grids.events.models import EventDispatch, EventHistory, GridEvent, WithdrawnResolution

        events = [p.values["event"] for p in batch]
        GridEvent.objects.bulk_create(events)
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
        history += self._absorbed(batch)
        write_rows(EventHistory, HISTORY_COLUMNS, history)
        EventDispatch.objects.bulk_create(dispatches)
        WithdrawnResolution.objects.bulk_create(withdrawn)
        return [e.pk for e in events]

    @staticmethod
    def _absorbed(batch) -> list:
        """The target's side of each merge ("absorb", as event_merge records it)."""
        from grids.events.models import GridEvent

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
                                              {"merged": event.pk}).values()))  # fmt: skip
        return rows


def level_word(level: int | None) -> str:
    return LEVEL_NAMES.get(level, "") if level else ""


def code_at(code: str, level: int) -> str:
    return code[: CODE_LENGTH[Level(level)]]


__all__ = ["EVENT_ACTIONS", "ValidationError", "code_at", "level_word", "replay_event"]
