"""Building blocks the apps' record types share: the directory record (an entry known by its region
and name), timelines walked step by step, a refused step named by its place in the row, and the
history rows a replayed timeline leaves."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from governance.interchange.base import Context, Prepared, RecordType, Rejected, Unchanged, moment, text


class DirectoryRecord(RecordType):
    """A department or mediation organisation, known by its region and name (which is its identity,
    as a region's code is): one already on the platform with the same content is left unchanged,
    one with other content is refused (the import never edits the platform's directory).
    Subclasses set `levels` (the file's level words) and `placeholder` (the key under which
    `Context.placeholder` finds an entry of the file), and implement `fields`."""

    uses_refs = False
    region_keys = ("region",)
    id_key = "name"
    placeholder = ""
    levels: list[str] = []

    def identity(self, row: dict) -> str:
        return f"{str(row.get('region', '')).strip()}/{str(row.get('name', '')).strip()}".strip("/")

    def fields(self, row: dict, ctx: Context, region) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def validate(self, row, ctx):
        region = ctx.region(row, "region", levels=self.levels)
        name = text(row, "name", required=True, max_length=100)
        values = self.fields(row, ctx, region)
        code = region if isinstance(region, str) else region.code
        existing = None if isinstance(region, str) else self.model.objects.filter(region=region, name=name).first()
        if existing is not None:
            differing = sorted(k for k, v in values.items() if getattr(existing, k) != v)
            if differing:
                raise Rejected({differing[0]: [_("“%(name)s”已在平台上，内容不同（导入不修改平台上的已有记录）。") % {"name": name}]})  # fmt: skip
            raise Unchanged
        ctx.file_keys.add((self.placeholder, code, name))
        return Prepared("", "", "", code, 0, {"region": region, "name": name, **values})


# --- Timelines -------------------------------------------------------------------------------------------------

# The field a refused step names in the services, as the timeline spells it.
STEP_FIELDS = {"reason": "note"}


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
    """The declared transition `action` out of `status` (a table of transitions by name)."""
    transition = transitions.get(action)
    if transition is None:
        raise Rejected({key: [_("未知的操作“%(a)s”。") % {"a": action}]})
    if status not in transition.sources:
        raise Rejected({key: [_("状态“%(s)s”下不能执行“%(a)s”。") % {"s": status, "a": action}]})
    return transition


# The columns of a history row (EventHistory, CaseHistory) after its record's id, in history_row's order.
HISTORY_COLUMNS = ("event_id", "action", "from_status", "to_status", "at", "actor_name", "note", "data")


def history_row(action, before, after, at, step, note, data, *, actor: str = "") -> dict:
    """`actor`: who a step without `by` is recorded as (Context.import_actor, translated once)."""
    return {"action": action, "from_status": before, "to_status": after, "at": at,
            "actor_name": text(step, "by", max_length=100) or actor or _("历史数据导入"), "note": note, "data": data}  # fmt: skip
