"""The hierarchy's record types of the interchange (docs/import-format.md): region and grid_worker,
and the region resolver through which the framework (governance.interchange) reaches regions.
Registered by GridsConfig.ready()."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext as _

from governance.choices import Role
from governance.codes import LEVEL_BY_CODE_LENGTH, Level
from governance.interchange.base import (
    Context,
    Prepared,
    RecordType,
    Rejected,
    Unchanged,
    day,
    register,
    register_regions,
    text,
)
from governance.interchange.exporter import iso
from governance.models import User
from grids.models import GridWorker, Region
from grids.services.regions import RowError, export_rows, import_regions, parse_row, recount_fulltime_workers

# The file's level words ("township") and the levels they name.
LEVEL_WORDS = {level.name.lower(): level for level in Level}
LEVEL_NAMES = {v: k for k, v in LEVEL_WORDS.items()}


def level_word(level: int | None) -> str:
    return LEVEL_NAMES.get(level, "") if level else ""


class Regions:
    """The framework's RegionResolver: regions by statistical code."""

    def find(self, codes: list[str]) -> dict[str, Region]:
        return {r.code: r for r in Region.objects.filter(code__in=codes)}

    def level(self, code: str) -> str:
        return level_word(LEVEL_BY_CODE_LENGTH.get(len(code)))

    def level_label(self, level: str) -> str:
        return str(LEVEL_WORDS[level].label)

    def visible(self, code: str, user) -> bool:
        regions = Region.objects.all() if user is None else Region.objects.restrict(user)
        return regions.filter(code=code).exists()


register_regions(Regions())


@register
class RegionRecord(RecordType):
    """Regions, checked and written by the region import of grids.services.regions."""

    kind = "region"
    model = Region
    position = 10
    id_key = "code"
    uses_refs = False

    def prefetch(self, rows, ctx):
        ctx.load_regions(r.get("code") for r in rows)

    def validate(self, row: dict, ctx: Context) -> Prepared:
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
        report = import_regions(rows=[(p.line, p.values["row"]) for p in batch], acting_user=ctx.user, bulk=True)
        if report.rejected:
            raise Rejected({"code": [str(report.rejected[0].errors)]})
        ctx.regions.clear()
        return [0] * len(batch)

    def export(self, scope):
        user = scope.user
        if user is None or user.is_superuser:  # the ancestors, so a fresh database can take the subtree
            region = Region.objects.get(code=scope.code)
            yield from export_rows(Region.objects.filter(code__in=region.ancestors_codes()).order_by("code"))
        for chunk in scope.chunks(scope.restricted(Region).under(scope.code)):
            yield from export_rows(chunk)


@register
class GridWorkerRecord(RecordType):
    """网格员; `account` names the platform user (created inactive when it does not exist yet)."""

    kind = "grid_worker"
    model = GridWorker
    position = 40
    region_keys = ("grid",)

    def prefetch(self, rows, ctx):
        super().prefetch(rows, ctx)
        names = {text(r, "account") for r in rows} - {""}
        ctx.cache.update({("user", u.username): u for u in User.objects.filter(username__in=names)})

    def validate(self, row, ctx):
        grid = ctx.region(row, "grid", levels=["grid"])
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
        unusable = make_password(None)  # one per batch: it only has to match no password
        new_users = [
            User(
                username=p.values["account"],
                display_name=p.values["name"],
                role=Role.GRID_WORKER,
                region=p.values["grid"],
                is_active=False,
                password=unusable,
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

    def export(self, scope):
        workers = scope.restricted(GridWorker).filter(grid__code__under=scope.code).select_related("grid", "user")
        for chunk in scope.chunks(workers):
            for w in chunk:
                yield {"id": worker_id(w.pk), "grid": w.grid.code, "name": w.name, "full_time": w.is_full_time,
                       "started_on": iso(w.started_on), "ended_on": iso(w.ended_on),
                       "account": w.user.username if w.user_id else ""}  # fmt: skip


# --- Grid workers as the later sections (visits, events) name them ----------------------------------------------


def worker_id(pk: int) -> str:
    """A grid worker's id in an export."""
    return f"gw-{pk}"


def worker_ids(user_ids) -> dict[int, str]:
    """The export ids of the grid workers of these accounts, by account."""
    pairs = GridWorker.objects.filter(user_id__in=set(user_ids)).values_list("pk", "user_id")
    return {user: worker_id(pk) for pk, user in pairs}


def worker_user_id(ctx: Context, worker: str) -> int | None:
    """The account of a grid worker the file (or an earlier import) introduced."""
    pk = ctx.object_id("grid_worker", worker)
    return ctx.cached(
        ("worker_user", pk), lambda: GridWorker.objects.filter(pk=pk).values_list("user_id", flat=True).first()
    )


def load_workers(ctx: Context, ids) -> None:
    """The references and (once written) the accounts of a chunk's grid workers, in a few queries."""
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


def check_worker(row: dict, key: str, ctx: Context, *, required: bool) -> str:
    """The grid worker a row names (by its id in the file), which must exist."""
    worker = text(row, key, required=required)
    if worker and not ctx.ref_exists("grid_worker", worker):
        raise Rejected({key: [_("网格员“%(id)s”不存在（应先在grid_worker一节导入）。") % {"id": worker}]})
    return worker
