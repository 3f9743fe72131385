"""Benchmark of the year-end assessment (SPEC §5) at county and province scale on PostgreSQL.

Builds the hierarchy with the demo builder (`grids.demo`, as `bench/hierarchy.py` does through
`seed_demo`), then a year of platform records in bulk SQL — grid workers with accounts, grid
events, mediation cases with agreements, follow-ups and judicial confirmations, visit records,
monthly core tables, survey answers, veto rulings, innovation awards and, once the cycle exists,
two assessor groups' scores — and times the year-end cycle of 2025 over it twice, each beside the
hand-written SQL pass in the same state: cold (one pass, then the cycle's first run, straight after
generation + VACUUM ANALYZE) and warm (three passes, then the same cycle again). Writes the figures
into docs/performance.md (section "Assessment"; the other scale's column is kept).

    .venv/bin/python bench/assessment.py --scale county
    .venv/bin/python bench/assessment.py --scale province \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_assessment --keep

The database is dropped and re-created (it must not be `governance` or `test`), and dropped
again at the end unless `--keep` is given.

How the data is made: every large table is written by one `INSERT … SELECT` over
`generate_series`, split over one session per core (two here), with the table's secondary indexes,
unique and foreign-key constraints dropped during the load and re-created (and so re-checked)
afterwards; small tables go through `COPY` from an in-memory CSV. Randomness is a hash of the
row number and a salt (`bench_rand`), so the data does not depend on the plan or the session and
a re-run builds the same rows. The records describe the platform as it stands at the start of
scheduled year-end runs, 10 January 2026: nothing happened after that moment, so events and cases
whose next step would fall later are still open.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgdb import check_url, database_name, drop_database, recreate_database, write_doc_section  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_assessment"
SEED = 2025
YEAR = 2025
DATA_START = dt.date(2024, 10, 1)  # a quarter of the previous year, which the year-end period must leave out
DATA_END = dt.date(2025, 12, 31)
HORIZON = dt.datetime(2026, 1, 10)  # local time: nothing in the data happened at or after this moment
TZ = "Asia/Shanghai"
PARTS = max(2, min(os.cpu_count() or 2, 4))  # concurrent loading sessions (about one per core)


@dataclass(frozen=True)
class BenchScale:
    hierarchy: str  # a grids.demo scale
    townships: tuple[int, int] | None  # override of the demo scale's shape (None: keep it)
    villages: tuple[int, int] | None
    grids: tuple[int, int] | None
    events: int
    cases: int
    visits_per_worker: int
    surveys_per_village: int
    vetoes: int


SCALES = {
    # One county: ~15 townships, ~800 grids, ~100k events.
    "county": BenchScale("county", (15, 15), (8, 10), (5, 7), 100_000, 10_000, 28, 100, 1),
    # ~98 counties, ~1,400 townships, ~14,000 villages, ~72,000 grids (the demo "province").
    "province": BenchScale("province", None, None, None, 10_000_000, 1_000_000, 28, 100, 6),
}


# --- Database ---------------------------------------------------------------------------------------


class Loader:
    """Runs SQL on the benchmark database: in Django's connection, or split over several sessions."""

    SESSION = (
        "SET synchronous_commit = off; SET maintenance_work_mem = '512MB'; SET work_mem = '256MB';"
        " SET max_parallel_maintenance_workers = 1;"
    )

    def __init__(self, url: str):
        self.url = url
        self.lock = threading.Lock()

    def connect(self):
        import psycopg2

        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(self.SESSION)
        return conn

    def run(self, sql: str, params=None) -> int:
        from django.db import connection

        check_required_columns(sql)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def parallel(self, statements: list[str]) -> int:
        """Run the statements concurrently, one session each; the total row count."""
        for sql in statements:
            check_required_columns(sql)

        def one(sql: str) -> int:
            conn = self.connect()
            try:
                with conn.cursor() as cursor:
                    cursor.execute(sql)
                    return max(cursor.rowcount, 0)
            finally:
                conn.close()

        with ThreadPoolExecutor(max_workers=len(statements)) as pool:
            return sum(pool.map(one, statements))

    def parallel_each(self, statements: list[str]) -> None:
        """Run independent statements on PARTS sessions, each taking the next one in turn."""
        queue = list(statements)

        def worker() -> None:
            conn = self.connect()
            try:
                while True:
                    with self.lock:
                        if not queue:
                            return
                        sql = queue.pop(0)
                    with conn.cursor() as cursor:
                        cursor.execute(sql)
            finally:
                conn.close()

        with ThreadPoolExecutor(max_workers=PARTS) as pool:
            for future in [pool.submit(worker) for _ in range(PARTS)]:
                future.result()

    def copy(self, table: str, columns: list[str], rows) -> int:
        """COPY rows (tuples; None = NULL) into a table from an in-memory CSV."""
        from django.db import connection

        check_columns(table, columns)

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        count = 0
        for row in rows:
            writer.writerow(["\\N" if value is None else value for value in row])
            count += 1
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
            )
        return count


class DeferredIndexes:
    """Drop a table's secondary indexes, unique and foreign-key constraints for a bulk load,
    then re-create them exactly (names and definitions from the catalogue), so the loaded rows
    are checked against every constraint once, by set operations instead of per row."""

    def __init__(self, loader: Loader, table: str):
        self.loader, self.table = loader, table

    def __enter__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname",
                [self.table],
            )
            self.constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = %s"
                " AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass"
                " AND contype = 'p') ORDER BY i.indexname",
                [self.table, self.table],
            )
            self.indexes = cursor.fetchall()
            for name, _type, _definition in self.constraints:
                cursor.execute(f'ALTER TABLE {self.table} DROP CONSTRAINT "{name}"')
            for name, _definition in self.indexes:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False
        started = time.perf_counter()
        # Index builds take a SHARE lock, so two can run at once; constraints are attached after.
        self.loader.parallel_each([definition for _name, definition in self.indexes])
        for name, contype, _definition in self.constraints:
            if contype == "u":
                self.loader.run(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" UNIQUE USING INDEX "{name}"')
        for name, contype, definition in self.constraints:
            if contype == "f":
                self.loader.run(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')
        self.seconds = time.perf_counter() - started
        return False


# --- SQL helpers ------------------------------------------------------------------------------------


def lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def pick(r: str, options: list[tuple[object, float]]) -> str:
    """A weighted choice driven by the uniform value `r`, as a CASE expression."""
    total = sum(weight for _value, weight in options)
    parts, cumulative = [], 0.0
    for value, weight in options[:-1]:
        cumulative += weight / total
        parts.append(f"WHEN {r} < {cumulative:.6f} THEN {lit(value)}")
    return f"(CASE {' '.join(parts)} ELSE {lit(options[-1][0])} END)"


def rands(key: str, names: list[str], base: int) -> str:
    """Columns `name` = bench_rand(key, salt) with a distinct salt each."""
    return ", ".join(f"bench_rand({key}, {base + i}) AS {name}" for i, name in enumerate(names))


def local(ts: str) -> str:
    """A local (Asia/Shanghai) timestamp without time zone, as an aware instant."""
    return f"(({ts}) AT TIME ZONE '{TZ}')"


def local_date(ts: str) -> str:
    return f"(({ts}) AT TIME ZONE '{TZ}')::date"


def end_of_day(date_expr: str) -> str:
    """23:59:59 local of a date, as an aware instant (how stored deadlines end)."""
    return local(f"({date_expr}) + time '23:59:59'")


def table_columns(table: str) -> dict[str, bool]:
    """Column name → whether a row must give it a value (NOT NULL, no default, not an identity)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'"
            " FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
            [table],
        )
        return dict(cursor.fetchall())


def optional_columns(table: str, candidates: dict[str, str]) -> tuple[str, str]:
    """(", col, …", ", expr, …") for the candidate columns the table has."""
    present = [name for name in candidates if name in table_columns(table)]
    return "".join(f", {name}" for name in present), "".join(f", {candidates[name]}" for name in present)


INSERT_COLUMNS = re.compile(r"INSERT INTO (\w+) \(([^)]*)\)", re.S)


def check_required_columns(sql: str) -> None:
    """check_columns() for the first INSERT of a statement."""
    if match := INSERT_COLUMNS.search(sql):
        check_columns(match.group(1), [c.strip() for c in match.group(2).split(",")])


def check_columns(table: str, given) -> None:
    """Refuse a load that leaves out a column the table requires: the schema has moved on and
    this script has to learn the new column (better than failing half-way or a wrong dataset)."""
    missing = sorted(name for name, required in table_columns(table).items() if required and name not in set(given))
    if missing:
        raise SystemExit(f"{table} has required columns this script does not fill: {', '.join(missing)}")


H = f"(timestamp '{HORIZON:%Y-%m-%d %H:%M:%S}' AT TIME ZONE '{TZ}')"
H_DATE = f"date '{HORIZON:%Y-%m-%d}'"
DAYS = (DATA_END - DATA_START).days + 1
START = f"date '{DATA_START:%Y-%m-%d}'"


def before_horizon(expr: str) -> str:
    return f"(CASE WHEN {expr} < {H} THEN {expr} END)"


# --- Generation -------------------------------------------------------------------------------------


class Generator:
    def __init__(self, scale_name: str, loader: Loader):
        self.name = scale_name
        self.scale = SCALES[scale_name]
        self.loader = loader
        self.timings: list[tuple[str, int, float, float]] = []  # table, rows, load s, index s
        self.counts: dict[str, int] = {}

    def step(self, table: str, fn, deferred: bool = False) -> None:
        started = time.perf_counter()
        index_seconds = 0.0
        if deferred:
            with DeferredIndexes(self.loader, table) as indexes:
                rows = fn()
                load_seconds = time.perf_counter() - started
            index_seconds = indexes.seconds
            self.loader.run(f"ANALYZE {table}")  # the next generators read this table
        else:
            rows = fn()
            load_seconds = time.perf_counter() - started
        self.timings.append((table, rows, load_seconds, index_seconds))
        self.counts[table] = rows
        print(f"  {table:<34} {rows:>12,} rows  {load_seconds:7.1f} s load  {index_seconds:7.1f} s indexes", flush=True)

    # --- the whole dataset ------------------------------------------------------------------------
    def build(self) -> None:
        self.step("grids_region (demo builder)", self.hierarchy)
        self.loader.run(
            "CREATE OR REPLACE FUNCTION bench_rand(bigint, integer) RETURNS double precision"
            " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ((hashint8extended($1, $2::bigint + "
            f"{SEED * 1000}) >> 11) & 9007199254740991)::double precision / 9007199254740992.0 $$"
        )
        self.step("governance_user (grid workers)", self.worker_users)
        self.step("disputes_mediationorganisation", self.village_committees)
        self.step("bench helper tables", self.helpers)
        self.step("grids_gridevent", self.events, deferred=True)
        self.step("disputes_case", self.cases, deferred=True)
        self.step("disputes_agreement", self.agreements, deferred=True)
        self.step("disputes_followup", self.follow_ups, deferred=True)
        self.step("disputes_judicialconfirmation", self.confirmations)
        self.step("grids_visitrecord", self.visits, deferred=True)
        self.step("assessment_monthlyreport", self.monthly_reports)
        self.step("assessment_surveyresponse", self.surveys, deferred=True)
        self.step("assessment_vetoruling", self.vetoes)
        self.step("assessment_innovationaward", self.awards)
        for table in ("grids_gridevent", "disputes_case"):
            self.loader.run(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

    # --- hierarchy, people, organisations ------------------------------------------------------------
    def hierarchy(self) -> int:
        """The demo builder's regions, grid workers, departments and mediation organisations
        (`DemoBuilder.build` minus its demo accounts, which assume at least two counties)."""
        from django.db import transaction

        from disputes.demo import build_mediation_orgs
        from governance.choices import Role
        from governance.codes import Level
        from governance.models import Department, User
        from grids import demo
        from grids.models import GridWorker, Region
        from grids.services import recount_fulltime_workers

        builder = demo.DemoBuilder(self.scale.hierarchy, seed=SEED)
        if self.scale.townships:
            shape = builder.scale
            builder.scale = demo.Scale(
                shape.cities, shape.counties_per_city, self.scale.townships, self.scale.villages, self.scale.grids
            )
        with transaction.atomic():
            builder.build_regions()
            builder.draw_outlines()  # down to the townships: what bench/dashboard.py serves
            for level in Level:  # parents first, so children pick up their parents' ids
                Region.objects.bulk_create([r for r in builder.regions if r.level == level], batch_size=5000)
            GridWorker.objects.bulk_create(builder.workers, batch_size=5000)
            recount_fulltime_workers()
            counties = [r for r in builder.regions if r.level == Level.COUNTY]
            Department.objects.bulk_create(
                Department(region=county, kind=kind, name=county.name + demo.DEPARTMENT_SUFFIX[kind])
                for county in counties
                for kind in demo.DEPARTMENT_KINDS
            )
            townships = [r for r in builder.regions if r.level == Level.TOWNSHIP]
            build_mediation_orgs(counties, townships, builder.scale_name)
            admin = User(username="admin", display_name="系统管理员", role=Role.ADMIN, region=builder.regions[0])
            admin.is_staff = admin.is_superuser = True
            admin.set_unusable_password()
            admin.save()
        self.regions = {level: Region.objects.filter(level=level).count() for level in range(1, 7)}
        return sum(self.regions.values())

    def worker_users(self) -> int:
        """A platform account (unusable password) for every grid worker the builder created."""
        username = "'wgy_' || g.code || '_' || w.id"
        joined = local("w.started_on + time '09:00'")
        rows = self.loader.run(
            "INSERT INTO governance_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
            " is_active, date_joined, display_name, role, failed_logins, region_id)"
            f" SELECT '!' || md5('bench-worker-' || w.id), false, {username}, '', '', '', false, true,"
            f" {joined}, w.name, 'grid_worker', 0, w.grid_id"
            " FROM grids_gridworker w JOIN grids_region g ON g.id = w.grid_id WHERE w.user_id IS NULL"
        )
        self.loader.run(
            f"UPDATE grids_gridworker w SET user_id = u.id FROM governance_user u, grids_region g"
            f" WHERE g.id = w.grid_id AND w.user_id IS NULL AND u.username = {username}"
        )
        return rows

    def village_committees(self) -> int:
        """村（社区）人民调解委员会: one per village (the builder made the township and county ones)."""
        return self.loader.run(
            "INSERT INTO disputes_mediationorganisation (kind, name, trade, is_active, region_id)"
            " SELECT 'village_committee', v.name || '人民调解委员会', '', true, v.id FROM grids_region v WHERE v.level = 5"
        )

    def helpers(self) -> int:
        """Unlogged per-grid / per-village / per-worker tables that drive the generators, and a
        working-day calendar computed by the platform's own deadline code (grids.events.sla)."""
        from governance.choices import DepartmentKind
        from grids.demo import DEPARTMENT_KINDS
        from grids.events.models import EventCategory
        from grids.events.sla import Limit, add_limit, nth_working_day_after

        n_grids, n_villages = self.regions[6], self.regions[5]
        # Fresh tables have no statistics yet: without them the joins below run as nested loops.
        self.loader.run(
            "ANALYZE grids_region; ANALYZE grids_gridworker; ANALYZE governance_user; ANALYZE governance_department;"
            " ANALYZE disputes_mediationorganisation"
        )
        kinds = "ARRAY[" + ", ".join(lit(str(k)) for k in DEPARTMENT_KINDS) + "]"
        self.loader.run("DROP TABLE IF EXISTS bench_grid, bench_village, bench_worker, bench_calendar")
        self.loader.run(
            f"""CREATE UNLOGGED TABLE bench_grid AS
            SELECT s.*, sum(n_events) OVER (ORDER BY code) - n_events + 1 AS first_id FROM (
              SELECT g.id AS grid_id, g.code, COALESCE(w.workers, ARRAY[]::bigint[]) AS workers, d.depts,
                floor({self.scale.events / n_grids} * (0.5 + bench_rand(g.code::bigint, 1)))::int AS n_events,
                (row_number() OVER (ORDER BY g.code)) % {PARTS} AS part
              FROM grids_region g
              LEFT JOIN (SELECT grid_id, array_agg(user_id ORDER BY id) AS workers FROM grids_gridworker
                         WHERE user_id IS NOT NULL AND is_full_time GROUP BY grid_id) w ON w.grid_id = g.id
              JOIN (SELECT c.code, array_agg(d.id ORDER BY array_position({kinds}, d.kind::text)) AS depts
                    FROM governance_department d JOIN grids_region c ON c.id = d.region_id GROUP BY c.code) d
                ON d.code = substr(g.code, 1, 6)
              WHERE g.level = 6) s"""
        )
        self.loader.run(
            f"""CREATE UNLOGGED TABLE bench_village AS
            SELECT s.*, sum(n_cases) OVER (ORDER BY code) - n_cases + 1 AS first_case,
              (row_number() OVER (ORDER BY code) - 1) * {self.scale.surveys_per_village} + 1 AS first_survey
            FROM (
              SELECT v.id AS village_id, v.code, t.code AS township, substr(v.code, 1, 6) AS county,
                ov.id AS org_village, ot.id AS org_township, oc.id AS org_county,
                COALESCE(gg.grids, ARRAY[]::bigint[]) AS grids,
                floor({self.scale.cases / n_villages} * (0.5 + bench_rand(v.code::bigint, 2)))::int AS n_cases,
                (dense_rank() OVER (ORDER BY substr(v.code, 1, 6))) % {PARTS} AS part,
                -- a few townships where residents feel markedly less safe (V04 territory)
                CASE WHEN bench_rand(t.code::bigint, 3) < 0.03 THEN 0.74 ELSE 0.93 END AS p_safe
              FROM grids_region v
              JOIN grids_region t ON t.id = v.parent_id
              JOIN disputes_mediationorganisation ov ON ov.region_id = v.id AND ov.kind = 'village_committee'
              JOIN disputes_mediationorganisation ot ON ot.region_id = t.id AND ot.kind = 'township_committee'
              JOIN disputes_mediationorganisation oc ON oc.region_id = t.parent_id AND oc.kind = 'one_stop'
              LEFT JOIN (SELECT parent_id, array_agg(id ORDER BY code) AS grids FROM grids_region
                         WHERE level = 6 GROUP BY parent_id) gg ON gg.parent_id = v.id
              WHERE v.level = 5) s"""
        )
        # Visits per worker are skewed (mean visits_per_worker): a few log nearly every working day.
        self.loader.run(
            f"""CREATE UNLOGGED TABLE bench_worker AS
            SELECT w.user_id, w.grid_id,
              floor({self.scale.visits_per_worker * 8} * power(bench_rand(w.user_id, 4), 7))::int AS n_visits,
              (ARRAY[1, 2, 3, 4, 6, 7, 8, 9])[1 + (w.id % 8)::int] AS step,
              floor(365 * bench_rand(w.user_id, 5))::int AS start,
              (row_number() OVER (ORDER BY w.id)) % {PARTS} AS part
            FROM grids_gridworker w WHERE w.user_id IS NOT NULL"""
        )
        # Working-day calendar: resolve deadline of a normal event reported that day (5 working days,
        # end of day) and the 7th working day after a judicial-confirmation application.
        rows, day = [], DATA_START - dt.timedelta(days=7)
        while day <= HORIZON.date() + dt.timedelta(days=7):
            noon = dt.datetime.combine(day, dt.time(12)).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
            wd5 = add_limit(noon, Limit(5, "working_days"))
            rows.append((day.isoformat(), wd5.isoformat(), nth_working_day_after(day, 7).isoformat()))
            day += dt.timedelta(days=1)
        self.loader.run(
            "CREATE UNLOGGED TABLE bench_calendar (day date PRIMARY KEY, wd5_end timestamptz NOT NULL, wd7 date NOT NULL)"
        )
        self.loader.copy("bench_calendar", ["day", "wd5_end", "wd7"], rows)
        self.loader.run("ANALYZE bench_grid; ANALYZE bench_village; ANALYZE bench_worker; ANALYZE bench_calendar")

        # Categories (weights: sub-categories mostly; 安全生产 a tenth) and their department kinds.
        categories = list(EventCategory.objects.select_related("parent").order_by("pk"))
        weight = {"sanitation": 3, "facilities": 2, "dispute": 2, "livelihood": 2, "public_order": 1.5}
        self.categories = []
        for category in categories:
            top = category.parent.code if category.parent_id else category.code
            leaf = category.parent_id or not any(c.parent_id == category.pk for c in categories)
            kind = category.department_kind or DepartmentKind.COMMITTEE
            self.categories.append(
                {
                    "id": category.pk,
                    "name": category.name,
                    "kind": DEPARTMENT_KINDS.index(kind) + 1 if kind in DEPARTMENT_KINDS else 1,
                    "weight": (4 if leaf else 1) * weight.get(top, 1),
                }
            )
        return len(rows) + n_grids + n_villages

    # --- grid events ------------------------------------------------------------------------------------
    def events(self) -> int:
        cats = self.categories
        cat_pick = pick("r_cat", [(i + 1, c["weight"]) for i, c in enumerate(cats)])
        cat_ids = "(ARRAY[" + ", ".join(str(c["id"]) for c in cats) + "]::bigint[])"
        cat_kind = "(ARRAY[" + ", ".join(str(c["kind"]) for c in cats) + "]::int[])"
        titles = "(ARRAY[" + ", ".join(lit(c["name"] + "问题") for c in cats) + "]::text[])"
        descriptions = (
            "(ARRAY["
            + ", ".join(lit(f"网格巡查发现{c['name']}问题，已现场拍照，请尽快核实处置。") for c in cats)
            + "]::text[])"
        )
        r_names = [
            "r_day", "r_hour", "r_min", "r_cat", "r_urg", "r_src", "r_ret", "r_rl", "r_rt", "r_stuck", "r_late",
            "r_res", "r_lvl", "r_v", "r_vt", "r_f", "r_ft", "r_c", "r_ct", "r_fb", "r_self", "r_h",
        ]  # fmt: skip
        urgency = pick("r_urg", [("normal", 85), ("urgent", 12), ("critical", 3)])
        source = pick(
            "r_src",
            [("patrol", 45), ("visit", 25), ("resident", 12), ("hotline", 12), ("department", 4), ("sensor", 2)],
        )
        level = pick("r_lvl", [(5, 55), (4, 33), (3, 10), (2, 2)])
        feedback = pick("r_fb", [("satisfied", 78), ("basically", 16), ("dissatisfied", 6)])
        # Columns of later schema versions, filled when present (no event is ever reopened here).
        extra_columns, extra_values = optional_columns(
            "grids_gridevent",
            {
                "first_resolved_at": "resolved_at",
                "first_resolved_level": "CASE WHEN resolved_at IS NOT NULL THEN lvl END",
                "reopened_at": "NULL::timestamptz",
            },
        )

        def statement(part: int) -> str:
            return f"""
INSERT INTO grids_gridevent (id, client_uuid, category_id, title, description, urgency, source, region_id,
  region_code, address, reporter_id, reporter_name, contact_phone, contact_phone_index, status, handling_level,
  lead_department_id, self_handled, resolved_level, resolution, return_reason, feedback, feedback_note,
  reported_at, responded_at, resolved_at, verified_at, feedback_at, closed_at, respond_deadline,
  resolve_deadline, feedback_deadline, updated_at{extra_columns})
SELECT n, md5('bench-event-' || n)::uuid, {cat_ids}[cat], {titles}[cat], {descriptions}[cat], urgency, source,
  grid_id, code, '',
  CASE WHEN source IN ('patrol', 'visit') AND cardinality(workers) > 0
       THEN workers[1 + (n % cardinality(workers))::int] END,
  CASE source WHEN 'resident' THEN '群众' WHEN 'hotline' THEN '12345热线' WHEN 'department' THEN '部门移交'
       WHEN 'sensor' THEN '感知设备' ELSE CASE WHEN cardinality(workers) = 0 THEN '网格长' ELSE '' END END,
  '', '',
  CASE WHEN returned THEN 'returned' WHEN closed_at IS NOT NULL THEN 'closed'
       WHEN feedback_at IS NOT NULL THEN 'feedback' WHEN verified_at IS NOT NULL THEN 'verified'
       WHEN resolved_at IS NOT NULL THEN 'resolved'
       WHEN responded_at IS NOT NULL THEN
         CASE WHEN r_h < 0.5 THEN CASE WHEN lvl <= 3 THEN 'dispatched' ELSE 'accepted' END ELSE 'handling' END
       ELSE 'reported' END,
  CASE WHEN responded_at IS NOT NULL AND NOT returned THEN lvl ELSE 5 END,
  CASE WHEN responded_at IS NOT NULL AND NOT returned AND lvl <= 3 THEN depts[{cat_kind}[cat]] END,
  responded_at IS NOT NULL AND NOT returned AND lvl = 5 AND r_self < 0.4,
  CASE WHEN resolved_at IS NOT NULL THEN lvl END,
  CASE WHEN resolved_at IS NOT NULL THEN '已到现场处置，问题已解决。' ELSE '' END,
  CASE WHEN returned THEN '不属于网格事件受理范围，已告知反映人。' ELSE '' END,
  CASE WHEN feedback_at IS NOT NULL THEN {feedback} ELSE '' END, '',
  reported_at, responded_at, resolved_at, verified_at, feedback_at,
  CASE WHEN returned THEN responded_at ELSE closed_at END,
  respond_deadline, resolve_deadline,
  CASE WHEN resolved_at IS NOT NULL THEN {end_of_day(local_date("resolved_at") + " + 7")} END,
  greatest(reported_at, responded_at, resolved_at, verified_at, feedback_at, closed_at){extra_values}
FROM (
  SELECT *, {before_horizon("t_resp")} AS responded_at, {before_horizon("t_res")} AS resolved_at,
    {before_horizon("t_ver")} AS verified_at, {before_horizon("t_fb")} AS feedback_at,
    {before_horizon("t_close")} AS closed_at, r_ret < 0.03 AND t_resp < {H} AS returned
  FROM (
    SELECT *, CASE WHEN t_fb IS NOT NULL AND r_c < 0.96 THEN t_fb + r_ct * interval '2 days' END AS t_close
    FROM (
      SELECT *,
        CASE WHEN t_ver IS NOT NULL AND r_f < 0.92 THEN t_ver + interval '2 hours' + r_ft * interval '5 days' END
          AS t_fb
      FROM (
        SELECT *,
          CASE WHEN t_res IS NOT NULL AND r_v < 0.97 THEN t_res + interval '1 hour' + r_vt * interval '47 hours' END
            AS t_ver
        FROM (
          SELECT *,
            CASE WHEN r_ret < 0.03 OR r_stuck < 0.008 THEN NULL
                 WHEN r_late < CASE WHEN urgency = 'normal' THEN 0.09 ELSE 0.07 END
                   THEN resolve_deadline + interval '1 hour'
                        + r_res * CASE WHEN urgency = 'normal' THEN interval '10 days' ELSE interval '3 days' END
                 ELSE t_resp + (0.05 + 0.93 * r_res) * (resolve_deadline - t_resp) END AS t_res
          FROM (
            SELECT *, {local("local_reported")} AS reported_at,
              {local("local_reported")} + interval '1 hour' AS respond_deadline,
              CASE WHEN urgency = 'normal' THEN cal.wd5_end ELSE {local("local_reported")} + interval '24 hours' END
                AS resolve_deadline,
              {local("local_reported")} + CASE WHEN r_rl < 0.92 THEN (2 + 53 * r_rt) * interval '1 minute'
                                               ELSE (61 + 299 * r_rt) * interval '1 minute' END AS t_resp
            FROM (
              SELECT *, {cat_pick} AS cat, {urgency} AS urgency, {source} AS source, {level} AS lvl,
                {START} + floor(r_day * {DAYS})::int
                  + CASE WHEN r_hour < 0.85 THEN interval '7 hours' + r_min * interval '14 hours'
                         ELSE r_min * interval '24 hours' END AS local_reported
              FROM (
                SELECT g.grid_id, g.code, g.workers, g.depts, n, {rands("n", r_names, 100)}
                FROM bench_grid g
                CROSS JOIN LATERAL generate_series(g.first_id, g.first_id + g.n_events - 1) AS n
                WHERE g.part = {part} OFFSET 0
              ) a OFFSET 0
            ) b JOIN bench_calendar cal ON cal.day = b.local_reported::date OFFSET 0
          ) c OFFSET 0
        ) d OFFSET 0
      ) e OFFSET 0
    ) f OFFSET 0
  ) g OFFSET 0
) x
"""

        return self.loader.parallel([statement(part) for part in range(PARTS)])

    # --- mediation ----------------------------------------------------------------------------------------
    def cases(self) -> int:
        from disputes.choices import DisputeType

        r_names = [
            "r_org", "r_day", "r_t", "r_type", "r_mass", "r_risk", "r_p", "r_p2", "r_dec", "r_acc", "r_stuck",
            "r_late", "r_c", "r_out", "r_cl", "r_m", "r_ref", "r_rep",
        ]  # fmt: skip
        types = [(t.value, w) for t, w in zip(DisputeType, [14, 22, 8, 10, 4, 9, 10, 3, 6, 4, 2, 3, 5], strict=True)]
        titles = {
            t.value: (t.label if str(t.label).endswith(("纠纷", "争议")) else f"{t.label}纠纷") for t in DisputeType
        }
        title_case = "CASE dispute_type " + " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in titles.items()) + " END"
        risk = pick("r_risk", [(1, 86), (2, 10), (3, 3.5), (4, 0.5)])
        # Columns of later schema versions, filled when present (no case is ever transferred here).
        extra_columns, extra_values = optional_columns(
            "disputes_case",
            {
                "first_concluded_at": "concluded_at",
                "first_outcome": "outcome",
                "assessment_code": "region_code",
                "reopened_at": "NULL::timestamptz",
            },
        )
        referral = pick("r_ref", [("litigation", 45), ("arbitration", 20), ("administrative_ruling", 10),
                                  ("petition", 15), ("", 10)])  # fmt: skip

        def statement(part: int) -> str:
            return f"""
INSERT INTO disputes_case (id, number, region_code, dispute_type, risk_level, people_involved, largest_side, is_mass,
  title, facts, status, registered_at, accepted_at, concluded_at, closed_at, conclusion_deadline, conclusion_warn_at,
  decline_reason, failure_reason, referral, is_repeat, updated_at, origin_region_id, organisation_id, outcome
  {extra_columns})
SELECT n,
  'T' || county || to_char(registered_at AT TIME ZONE '{TZ}', 'YYYY')
    || lpad((row_number() OVER (PARTITION BY county, to_char(registered_at AT TIME ZONE '{TZ}', 'YYYY')
                                ORDER BY n))::text, 6, '0'),
  region_code, dispute_type, risk_level, people_involved, largest_side, is_mass, title,
  '基准测试数据：' || title || '，当事人申请调解，调解员已了解基本情况。',
  CASE WHEN declined THEN CASE WHEN concluded_at IS NOT NULL THEN 'declined' ELSE 'registered' END
       WHEN closed_at IS NOT NULL THEN 'closed'
       WHEN outcome = 'agreed' THEN 'agreed'
       WHEN outcome = 'failed' THEN CASE WHEN referral <> '' THEN 'referred' ELSE 'failed' END
       WHEN accepted_at IS NOT NULL THEN CASE WHEN r_m < 0.8 THEN 'mediating' ELSE 'accepted' END
       ELSE 'registered' END,
  registered_at, accepted_at, concluded_at, closed_at, conclusion_deadline, conclusion_warn_at,
  CASE WHEN declined AND concluded_at IS NOT NULL THEN '纠纷已进入诉讼程序，不予受理。' ELSE '' END,
  CASE WHEN outcome = 'failed' THEN '双方分歧较大，调解不成。' ELSE '' END,
  CASE WHEN outcome = 'failed' THEN referral ELSE '' END,
  r_rep < 0.06,
  greatest(registered_at, accepted_at, concluded_at, closed_at),
  origin_region_id, organisation_id, outcome{extra_values}
FROM (
  SELECT *, {before_horizon("t_closed")} AS closed_at
  FROM (
    SELECT *, CASE WHEN concluded_at IS NULL OR declined THEN '' WHEN r_out < 0.92 THEN 'agreed' ELSE 'failed' END
        AS outcome,
      CASE WHEN declined OR concluded_at IS NULL THEN NULL
           WHEN r_out < 0.92 THEN concluded_at + interval '70 days' + r_cl * interval '30 days'
           ELSE concluded_at + r_cl * interval '5 days' END AS t_closed,
      {referral} AS referral
    FROM (
      SELECT *,
        CASE WHEN declined THEN {before_horizon("registered_at + interval '1 hour' + r_acc * interval '47 hours'")}
             WHEN accepted_at IS NULL OR r_stuck < 0.02 THEN NULL
             WHEN r_late < 0.10 THEN {before_horizon("conclusion_deadline + interval '1 hour' + r_c * interval '40 days'")}
             ELSE {before_horizon("accepted_at + interval '12 hours' + r_c * interval '28 days'")} END AS concluded_at
      FROM (
        SELECT *, {end_of_day(local_date("accepted_at") + " + 30")} AS conclusion_deadline,
          {end_of_day(local_date("accepted_at") + " + 20")} AS conclusion_warn_at
        FROM (
          SELECT *, {local("local_registered")} AS registered_at,
            CASE WHEN NOT declined
                 THEN {before_horizon(local("local_registered") + " + interval '30 minutes' + r_acc * interval '70 hours'")}
                 END AS accepted_at
          FROM (
          SELECT s0.*, l1.*, l2.* FROM (
            SELECT v.*, n, {rands("n", r_names, 200)}
            FROM bench_village v CROSS JOIN LATERAL generate_series(v.first_case, v.first_case + v.n_cases - 1) AS n
            WHERE v.part = {part} OFFSET 0
          ) s0,
          LATERAL (SELECT
            CASE WHEN r_org < 0.55 THEN org_village WHEN r_org < 0.90 THEN org_township ELSE org_county END
              AS organisation_id,
            CASE WHEN r_org < 0.55 THEN code WHEN r_org < 0.90 THEN township ELSE county END AS region_code,
            CASE WHEN cardinality(grids) > 0 THEN grids[1 + (n % cardinality(grids))::int] ELSE village_id END
              AS origin_region_id,
            {pick("r_type", types)} AS dispute_type,
            r_mass < 0.02 AS is_mass,
            r_dec < 0.03 AS declined,
            {START} + floor(r_day * {DAYS})::int + interval '8 hours' + r_t * interval '10 hours' AS local_registered
          ) l1,
          LATERAL (SELECT
            CASE WHEN is_mass THEN CASE WHEN r_risk < 0.8 THEN 2 ELSE 3 END ELSE {risk} END AS risk_level,
            CASE WHEN is_mass THEN 8 + floor(r_p * 25)::int ELSE 2 + floor(r_p * 3)::int END AS people_involved,
            CASE WHEN is_mass THEN 5 + floor(r_p2 * 3)::int ELSE 1 + floor(r_p2 * 2)::int END AS largest_side,
            {title_case} AS title
          ) l2
          OFFSET 0
          ) a0 OFFSET 0
        ) a OFFSET 0
      ) b OFFSET 0
    ) c OFFSET 0
  ) d OFFSET 0
) e
"""

        return self.loader.parallel([statement(part) for part in range(PARTS)])

    def agreements(self) -> int:
        return self.loader.run(
            f"""INSERT INTO disputes_agreement (terms, amount, signed_on, performance_deadline, case_id)
            SELECT '双方自愿达成如下协议：被申请人于履行期限内履行约定义务，双方不再就此事发生争执。',
              CASE WHEN bench_rand(id, 300) < 0.6 THEN round((500 + bench_rand(id, 301) * 50000)::numeric, 2) END,
              {local_date("concluded_at")}, {local_date("concluded_at")} + 30 + floor(bench_rand(id, 302) * 60)::int, id
            FROM disputes_case WHERE outcome = 'agreed'"""
        )

    def follow_ups(self) -> int:
        """One or two visits per agreement (7–30 days after signing, then 30–60 days later)."""
        fulfilment_1 = pick("bench_rand(a.case_id * 3 + k, 311)", [("full", 75), ("partly", 15), ("not", 10)])
        fulfilment_2 = pick("bench_rand(a.case_id * 3 + k, 311)", [("full", 90), ("partly", 7), ("not", 3)])
        satisfaction = pick(
            "bench_rand(a.case_id * 3 + k, 312)", [("satisfied", 72), ("basically", 21), ("dissatisfied", 7)]
        )
        return self.loader.run(
            f"""INSERT INTO disputes_followup (visited_on, fulfilment, satisfaction, notes, case_id)
            SELECT visited_on, CASE WHEN k = 1 THEN {fulfilment_1} ELSE {fulfilment_2} END, {satisfaction},
              '电话回访当事人，了解协议履行情况。', a.case_id
            FROM disputes_agreement a
            CROSS JOIN LATERAL generate_series(1, CASE WHEN bench_rand(a.case_id, 310) < 0.6 THEN 2 ELSE 1 END) AS k
            CROSS JOIN LATERAL (SELECT a.signed_on + 7 + floor(bench_rand(a.case_id, 313) * 23)::int
              + CASE WHEN k = 2 THEN 30 + floor(bench_rand(a.case_id, 314) * 30)::int ELSE 0 END AS visited_on) v
            WHERE visited_on < {H_DATE}"""
        )

    def confirmations(self) -> int:
        """司法确认 for ~8 % of agreements; decided within 1–11 days (the limit is 7 working days)."""
        decision = pick("bench_rand(a.case_id, 323)", [("confirmed", 95), ("rejected", 5)])
        return self.loader.run(
            f"""INSERT INTO disputes_judicialconfirmation (court, applied_on, deadline, decided_on, decision, case_id)
            SELECT c.name || '人民法院', applied_on, cal.wd7, decided_on,
              CASE WHEN decided_on IS NOT NULL THEN {decision} ELSE '' END, a.case_id
            FROM disputes_agreement a
            CROSS JOIN LATERAL (SELECT a.signed_on + floor(bench_rand(a.case_id, 321) * 10)::int AS applied_on) p
            CROSS JOIN LATERAL (SELECT CASE WHEN bench_rand(a.case_id, 322) < 0.96
              AND p.applied_on + 1 + floor(bench_rand(a.case_id, 324) * 11)::int < {H_DATE}
              THEN p.applied_on + 1 + floor(bench_rand(a.case_id, 324) * 11)::int END AS decided_on) q
            JOIN bench_calendar cal ON cal.day = p.applied_on
            JOIN disputes_case k ON k.id = a.case_id
            JOIN grids_region c ON c.code = substr(k.region_code, 1, 6)
            WHERE bench_rand(a.case_id, 320) < 0.08 AND p.applied_on < {H_DATE}"""
        )

    # --- grid workers' visits, monthly tables, surveys ---------------------------------------------------
    def visits(self) -> int:
        def statement(part: int) -> str:
            day = f"(date '{YEAR}-01-01' + ((s * w.step + w.start) % 365))"
            return f"""INSERT INTO grids_visitrecord (date, households_visited, notes, created_at, grid_id, worker_id)
            SELECT {day}, 3 + floor(bench_rand(w.user_id * 400 + s, 400) * 15)::int,
              CASE WHEN bench_rand(w.user_id * 400 + s, 401) < 0.2 THEN '入户走访，了解群众诉求，宣传反诈知识。' ELSE '' END,
              {local(day + " + time '18:00'")}, w.grid_id, w.user_id
            FROM bench_worker w CROSS JOIN LATERAL generate_series(1, least(w.n_visits, 365)) AS s
            WHERE w.part = {part}"""

        return self.loader.parallel([statement(part) for part in range(PARTS)])

    def monthly_reports(self) -> int:
        """One table per township per month of the year, by the 5th of the next month; ~0.2 % never
        submitted, ~1 % late (a late table not in by the snapshot counts as not submitted)."""
        from assessment.models import month_deadline
        from grids.models import Region

        rng = random.Random(SEED + 1)
        horizon = dt.datetime.combine(HORIZON.date(), dt.time()).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
        rows = []
        for township_id, code, population, households in (
            Region.objects.filter(level=4).order_by("code").values_list("id", "code", "population", "households")
        ):
            mediators = (rng.randint(1, 6), rng.randint(5, 30))
            cadres = rng.randint(20, 60)
            for month_number in range(1, 13):
                month = dt.date(YEAR, month_number, 1)
                deadline = month_deadline(month)
                roll = rng.random()
                if roll < 0.002:
                    continue
                if roll < 0.012:
                    submitted = deadline + dt.timedelta(hours=rng.uniform(1, 240))
                else:
                    submitted = deadline - dt.timedelta(hours=rng.uniform(4, 120))
                if submitted >= horizon:
                    continue
                received = rng.randint(0, 20)
                registered = rng.randint(10, 80)
                rows.append(
                    (
                        code,
                        month.isoformat(),
                        deadline.isoformat(),
                        submitted.isoformat(),
                        submitted > deadline,
                        f"{population * 5 / 12 * rng.uniform(0.4, 1.6):.2f}",
                        mediators[0],
                        mediators[1],
                        received,
                        int(received * rng.uniform(0.55, 1.0)),
                        int(population * 30 / 10000 / 12 * rng.uniform(0.3, 2.0)),
                        registered,
                        int(registered * rng.uniform(0.85, 1.0)),
                        int(households * rng.uniform(0.02, 0.15)),
                        cadres,
                        int(cadres * rng.uniform(0.6, 1.0)),
                        submitted.isoformat(),
                        township_id,
                    )
                )
        columns = [
            "region_code", "month", "deadline", "submitted_at", "is_late", "funding_yuan", "mediators_fulltime",
            "mediators_parttime", "petitions_received", "petitions_resolved_first", "criminal_cases",
            "key_persons_registered", "key_persons_managed", "households_reached", "cadres", "cadres_on_track",
            "updated_at", "township_id",
        ]  # fmt: skip
        return self.loader.copy("assessment_monthlyreport", columns, rows)

    def surveys(self) -> int:
        """100 answer sheets per village: 60 online over the year (a tenth of them in the previous
        year's last quarter), 40 offline household visits by the evaluator in Oct–Dec."""
        online = self.scale.surveys_per_village * 3 // 5

        answered_at = local(
            f"""CASE WHEN s <= {online} THEN
                  CASE WHEN bench_rand(n, 508) < 0.1 THEN date '{YEAR - 1}-10-01' + floor(bench_rand(n, 509) * 92)::int
                       ELSE date '{YEAR}-01-01' + floor(bench_rand(n, 509) * 365)::int END
                  + interval '8 hours' + bench_rand(n, 510) * interval '14 hours'
                ELSE date '{YEAR}-10-15' + floor(bench_rand(n, 509) * 60)::int
                  + interval '9 hours' + bench_rand(n, 510) * interval '9 hours' END"""
        )

        def statement(part: int) -> str:
            safety = (
                "CASE WHEN bench_rand(n, 501) < 0.02 THEN '' WHEN bench_rand(n, 502) < v.p_safe"
                " THEN CASE WHEN bench_rand(n, 503) < 0.6 THEN 'safe' ELSE 'fairly_safe' END"
                " ELSE CASE WHEN bench_rand(n, 503) < 0.7 THEN 'not_very_safe' ELSE 'unsafe' END END"
            )
            satisfaction = pick("bench_rand(n, 505)", [("satisfied", 60), ("basically", 31), ("dissatisfied", 9)])
            awareness = pick("bench_rand(n, 507)", [("aware", 82), ("unaware", 18)])
            return f"""INSERT INTO assessment_surveyresponse (region_code, channel, answered_at, safety, satisfaction,
              awareness, household, client_key, village_id)
            SELECT v.code, CASE WHEN s <= {online} THEN 'online' ELSE 'offline' END,
              {answered_at},
              {safety},
              CASE WHEN bench_rand(n, 504) < 0.02 THEN '' ELSE {satisfaction} END,
              CASE WHEN bench_rand(n, 506) < 0.02 THEN '' ELSE {awareness} END,
              CASE WHEN s > {online} THEN 'H' || v.code || lpad(s::text, 4, '0') ELSE '' END,
              'bench-' || n, v.village_id
            FROM bench_village v
            CROSS JOIN LATERAL generate_series(1, {self.scale.surveys_per_village}) AS s
            CROSS JOIN LATERAL (SELECT v.first_survey + s - 1 AS n) k
            WHERE v.part = {part}"""

        return self.loader.parallel([statement(part) for part in range(PARTS)])

    # --- committee records --------------------------------------------------------------------------------
    def vetoes(self) -> int:
        from assessment.models import VetoRuling
        from governance.models import User
        from grids.models import Region

        admin = User.objects.get(username="admin")
        townships = list(Region.objects.filter(level=4).order_by("code"))
        rng = random.Random(SEED + 2)
        rulings = []
        for i, unit in enumerate(rng.sample(townships, self.scale.vetoes)):
            indicator = ["V02", "V03", "V05", "V01"][i % 4]
            rulings.append(
                VetoRuling(
                    unit=unit,
                    region_code=unit.code,
                    indicator=indicator,
                    occurred_on=dt.date(YEAR, rng.randint(2, 11), rng.randint(1, 28)),
                    description=f"{unit.name}发生{indicator}所列情形，经调查核实，依据考核办法实行一票否决。",
                    status="revoked" if i == 4 else "in_force",
                    decision_note="经复核，事故责任不在该单位，撤销否决。" if i == 4 else "",
                    recorded_by=admin,
                )
            )
        VetoRuling.objects.bulk_create(rulings)
        return len(rulings)

    def awards(self) -> int:
        from assessment.models import InnovationAward
        from governance.models import User
        from grids.models import Region

        admin = User.objects.get(username="admin")
        rng = random.Random(SEED + 3)
        units = [r for r in Region.objects.filter(level__in=(3, 4)).order_by("code") if rng.random() < 0.04]
        InnovationAward.objects.bulk_create(
            InnovationAward(
                unit=unit,
                region_code=unit.code,
                year=YEAR,
                points=rng.choice(["0.50", "1.00", "1.50", "2.00", "3.00"]),
                reason="“枫桥式”矛盾纠纷多元化解创新做法被上级推广。",
                awarded_by=admin,
            )
            for unit in units
        )
        return len(units)

    def assessor_scores(self, cycle) -> int:
        """Two groups (the committee's and a third-party evaluator) score every assessed indicator
        for every unit of the cycle; ~2 % of the pairs differ by more than 15 points."""
        from django.conf import settings

        from assessment.models import AssessorGroup, Indicator
        from grids.models import Region

        levels = cycle.levels or settings.ASSESSMENT_LEVELS
        units = list(Region.objects.filter(level__in=levels, code__under=cycle.root.code).order_by("code"))
        indicators = list(Indicator.objects.filter(source="assessed").order_by("code").values_list("code", flat=True))
        groups = [
            AssessorGroup.objects.create(cycle=cycle, name="考核组（政法委）", is_third_party=False),
            AssessorGroup.objects.create(cycle=cycle, name="第三方评估机构", is_third_party=True),
        ]
        through = AssessorGroup.units.through
        through.objects.bulk_create(
            [through(assessorgroup_id=g.pk, region_id=u.pk) for g in groups for u in units], batch_size=5000
        )
        rng = random.Random(SEED + 4)
        scored_at = dt.datetime(YEAR + 1, 1, 8, 10).replace(tzinfo=dt.timezone(dt.timedelta(hours=8))).isoformat()
        rows = []
        for unit in units:
            base = rng.gauss(84, 6)
            for code in indicators:
                first = min(100.0, max(40.0, rng.gauss(base, 5)))
                spread = rng.uniform(16, 25) if rng.random() < 0.02 else rng.uniform(-8, 8)
                second = min(100.0, max(0.0, first + spread))
                for group, score in zip(groups, (first, second), strict=True):
                    rows.append((cycle.pk, group.pk, unit.pk, unit.code, code, f"{score:.2f}", "", scored_at))
        columns = ["cycle_id", "group_id", "unit_id", "region_code", "indicator", "score", "note", "scored_at"]
        return self.loader.copy("assessment_assessorscore", columns, rows)

    def drop_helpers(self) -> None:
        self.loader.run("DROP TABLE IF EXISTS bench_grid, bench_village, bench_worker, bench_calendar")


# --- Measurements -----------------------------------------------------------------------------------


def sql_aggregate_pass(runs: int = 3) -> tuple[list[float], int]:
    """A hand-written single pass over every event (the floor any engine pass is compared with):
    C04's, C05's and B03's counts for the year per township. Returns (`runs` timings, groups)."""
    from django.db import connection

    start, end = local(f"timestamp '{YEAR}-01-01'"), local(f"timestamp '{YEAR + 1}-01-01'")
    sql = f"""
SELECT substr(region_code, 1, 9) AS township,
  count(*) FILTER (WHERE resolved_at >= {start} AND resolved_at < {end} AND resolved_at <= resolve_deadline),
  count(*) FILTER (WHERE resolved_at >= {start} AND resolved_at < {end}
                   OR reported_at < {end} AND resolve_deadline < {end}
                      AND (resolved_at IS NULL OR resolved_at >= {end}) AND (closed_at IS NULL OR closed_at >= {end})),
  count(*) FILTER (WHERE reported_at >= {start} AND reported_at < {end} AND responded_at <= respond_deadline),
  count(*) FILTER (WHERE reported_at >= {start} AND reported_at < {end}),
  count(*) FILTER (WHERE feedback_at >= {start} AND feedback_at < {end} AND feedback IN ('satisfied', 'basically')),
  count(*) FILTER (WHERE feedback_at >= {start} AND feedback_at < {end} AND feedback <> ''),
  count(*)
FROM grids_gridevent GROUP BY 1"""
    samples, groups = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql)
            groups = len(cursor.fetchall())
        samples.append(time.perf_counter() - started)
    return samples, groups


def engine_available() -> bool:
    try:
        from assessment.engine import run  # noqa: F401
        from assessment.services import create_cycle  # noqa: F401
    except ImportError as exc:
        print(f"  engine not available yet ({exc})")
        return False
    return True


def create_year_end_cycle(root_code: str):
    import inspect

    from assessment.services import create_cycle
    from grids.models import Region

    root = Region.objects.get(code=root_code)
    accepted = inspect.signature(create_cycle).parameters
    kwargs = {"kind": "year_end", "year": YEAR, "root": root, "user": None}
    return create_cycle(**{k: v for k, v in kwargs.items() if k in accepted or "kwargs" in accepted})


def compute_in_subprocess(url: str, cycle_id: int) -> dict:
    """Run the engine in a fresh interpreter, so its peak RSS is the engine's own."""
    env = {**os.environ, "DATABASE_URL": url}
    completed = subprocess.run(
        [sys.executable, __file__, "--compute-cycle", str(cycle_id), "--database-url", url],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stderr.write(completed.stderr[-4000:])
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"engine run failed (exit {completed.returncode}):\n{completed.stdout[-2000:]}")
    return json.loads(lines[-1])


def compute_child(cycle_id: int) -> None:
    """Entry point of the subprocess: compute one cycle and print the figures as JSON."""
    import gc

    import django

    django.setup()
    from assessment import services
    from assessment.models import Cycle

    cycle = Cycle.objects.get(pk=cycle_id)
    if hasattr(services, "run_cycle"):
        # The Celery task's body: freeze the catalogue version, compute, store.
        entry = "assessment.services.run_cycle"

        def run():
            return services.run_cycle(cycle_id)
    else:
        from assessment.engine.run import compute_cycle

        entry = "assessment.engine.run.compute_cycle"

        def run():
            return compute_cycle(cycle)

    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def figure(name):
        value = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
        if value is None and name == "units":
            from assessment.models import UnitResult

            value = UnitResult.objects.filter(cycle_id=cycle_id).count()
        if value is None and name == "records_read":
            value = Cycle.objects.get(pk=cycle_id).records_read
        return int(value) if not isinstance(value, list | tuple | set | dict) else len(value)

    print(
        json.dumps(
            {
                "seconds": seconds,
                "units": figure("units"),
                "records_read": figure("records_read"),
                "rss_before_kb": rss_before,
                "rss_peak_kb": rss_peak,
                "entry": entry,
            }
        )
    )


# --- Report -----------------------------------------------------------------------------------------

SECTION = re.compile(r"## Assessment\n.*?(?=\n## |\Z)", re.S)
FIGURES = re.compile(r"<!-- bench/assessment\.py figures: (\{.*?\}) -->", re.S)


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def _seconds(value: float) -> str:
    return f"{value:,.1f} s" if value < 120 else f"{value / 60:,.1f} min"


def render(figures: dict) -> str:
    scales = [s for s in ("county", "province") if s in figures]
    rows = [
        ("measured on", lambda f: f["date"]),
        ("load average (1 min) at start / end of the run", lambda f: " / ".join(map(str, f["load"]))),
        ("counties / townships / villages / grids", lambda f: " / ".join(f"{n:,}" for n in f["regions"])),
        ("grid workers (with accounts)", lambda f: f"{f['rows'].get('governance_user (grid workers)', 0):,}"),
        ("grid events", lambda f: f"{f['rows']['grids_gridevent']:,}"),
        ("mediation cases", lambda f: f"{f['rows']['disputes_case']:,}"),
        (
            "agreements / follow-ups / judicial confirmations",
            lambda f: " / ".join(
                f"{f['rows'][t]:,}" for t in ("disputes_agreement", "disputes_followup", "disputes_judicialconfirmation")
            ),
        ),
        ("visit records", lambda f: f"{f['rows']['grids_visitrecord']:,}"),
        ("monthly core tables", lambda f: f"{f['rows']['assessment_monthlyreport']:,}"),
        ("survey answers", lambda f: f"{f['rows']['assessment_surveyresponse']:,}"),
        ("assessor scores (2 groups)", lambda f: f"{f['rows'].get('assessment_assessorscore', 0):,}"),
        ("veto rulings / innovation awards", lambda f: f"{f['rows']['assessment_vetoruling']} / "
                                                        f"{f['rows']['assessment_innovationaward']}"),
        ("data generation (incl. indexes)", lambda f: _seconds(f["generation_seconds"])),
        ("of which grid events (load + indexes)", lambda f: _seconds(f["event_seconds"])),
        ("VACUUM ANALYZE", lambda f: _seconds(f["vacuum_seconds"])),
        ("hand-written SQL pass over all events (cold: first after VACUUM / warm: median of 3)",
         lambda f: f"{f['sql_first']:.2f} s / {f['sql_median']:.2f} s"),
        ("**year-end cycle, cold: first run on the fresh data**",
         lambda f: f"**{_seconds(f['engine_cold']['seconds'])}** ({f['engine_cold']['seconds'] / f['sql_first']:.1f}× the cold pass)"),
        ("**year-end cycle, warm: the same cycle run again**",
         lambda f: f"**{_seconds(f['engine']['seconds'])}** ({f['engine']['seconds'] / f['sql_median']:.1f}× the warm pass)"
         if f.get("engine") else "—"),
        ("timed call", lambda f: f"`{f['engine']['entry'].rsplit('.', 1)[-1]}`" if f.get("engine") else "—"),
        ("units scored", lambda f: f"{f['engine']['units']:,}" if f.get("engine") else "—"),
        ("records read", lambda f: f"{f['engine']['records_read']:,}" if f.get("engine") else "—"),
        ("peak memory of the process (growth during the run)",
         lambda f: f"{_mb(f['engine']['rss_peak_kb'])} (+{_mb(f['engine']['rss_peak_kb'] - f['engine']['rss_before_kb'])})"
         if f.get("engine") else "—"),
    ]  # fmt: skip
    table = ["| | " + " | ".join(scales) + " |", "|---|" + "---|" * len(scales)]
    for label, fn in rows:
        cells = []
        for scale in scales:
            try:
                cells.append(fn(figures[scale]))
            except (KeyError, TypeError):
                cells.append("—")
        table.append(f"| {label} | " + " | ".join(cells) + " |")
    machine = next(iter(figures.values()))
    notes = [f"- {scale}: {figures[scale]['note']}" for scale in scales if figures[scale].get("note")]
    return (
        f"""## Assessment

Last measured by {", ".join(f"`bench/assessment.py --scale {s}` on {figures[s]['date']}" for s in scales)}
(load averages in the table).

Measured by `bench/assessment.py --scale county|province` ({machine["machine"]}, {machine["cores"]} cores,
PostgreSQL {machine["pg"]}): a year of platform records generated in bulk SQL, `VACUUM ANALYZE`, then the
2025 year-end cycle over the whole dataset: `create_cycle`, two assessor groups' scores, then the Celery
task's body `run_cycle` (catalogue snapshot + `compute_cycle` + the credibility checks), each run timed in a
fresh subprocess so that its peak RSS (`ru_maxrss`) is the engine's own. In this order, so that each engine
figure stands beside a pass made in the same state: **cold** — right after generation and `VACUUM ANALYZE`,
one SQL pass (its time is the cold pass), then the cycle's first run (no results stored yet; the events'
pages are where that one pass left them, every other table where generation left it); **warm** — three
more SQL passes (median), then the same cycle run again (it replaces its results). Memory is the warm
run's.
Records span 2024-10-01 … 2025-12-31 as they stood on 2026-01-10 (the scheduled start of year-end runs);
per-table generation times are printed by the script. Visit records are sparser than a real year's (≈28 per
worker, to keep generation short), so D02 scores near 0; that changes no query the engine runs.

"""
        + "\n".join(table)
        + "\n"
        + ("\n" + "\n".join(notes) + "\n" if notes else "")
        + f"\n<!-- bench/assessment.py figures: {json.dumps(figures, ensure_ascii=False, sort_keys=True)} -->\n"
    )


def write_section(scale: str, figures: dict) -> str:
    path = ROOT / "docs" / "performance.md"
    if not path.exists():
        path.write_text("# Performance\n\nFigures written by the scripts under `bench/`.\n", encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    existing = SECTION.search(text)
    stored = {}
    if existing and (match := FIGURES.search(existing.group(0))):
        stored = json.loads(match.group(1))
    stored[scale] = figures
    section = render(stored)
    write_doc_section(path, SECTION, section)
    return section


# --- Main -------------------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=list(SCALES), default="county")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--compute-cycle", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    url = args.database_url
    check_url(url)
    os.environ["DATABASE_URL"] = url
    if args.compute_cycle:
        compute_child(args.compute_cycle)
        return

    load_start = os.getloadavg()[0]
    print(f"Scale {args.scale}: re-creating {database_name(url)} (load average {load_start:.1f})", flush=True)
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from governance import audit
    from governance.choices import AuditAction

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  migrations                         {time.perf_counter() - started:24.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(Loader.SESSION)

    loader = Loader(url)
    generator = Generator(args.scale, loader)
    started = time.perf_counter()
    generator.build()
    root_code = "62" if args.scale == "province" else _first_county()
    audit.record(
        AuditAction.BULK,
        model_label="bench.assessment",
        object_repr=f"bench/assessment.py --scale {args.scale}",
        region_code=root_code,
        changes={table: rows for table, rows, _l, _i in generator.timings},
    )
    generation_seconds = time.perf_counter() - started
    print(f"  generation total {generation_seconds:.1f} s", flush=True)

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    vacuum_seconds = time.perf_counter() - started
    print(f"  VACUUM ANALYZE {vacuum_seconds:.1f} s", flush=True)

    # Cold: one pass, then the cycle's first run, both straight after generation + VACUUM ANALYZE.
    cold_samples, groups = sql_aggregate_pass(runs=1)
    sql_first = cold_samples[0]
    print(f"  SQL pass over all events, cold: {sql_first:.2f} s ({groups} township groups)", flush=True)

    engine = engine_cold = None
    note = ""
    if engine_available():
        started = time.perf_counter()
        cycle = create_year_end_cycle(root_code)
        rows = generator.assessor_scores(cycle)
        generator.counts["assessment_assessorscore"] = rows
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE assessment_assessorscore")
        print(f"  cycle #{cycle.pk} created, {rows:,} assessor scores in {time.perf_counter() - started:.1f} s")
        engine_cold = compute_in_subprocess(url, cycle.pk)
        print(f"  year-end cycle, cold (first run): {engine_cold['seconds']:.1f} s", flush=True)
    # Warm: three passes, then the same cycle again.
    sql_samples, groups = sql_aggregate_pass()
    sql_median = statistics.median(sql_samples)
    print(f"  SQL pass over all events, warm: {', '.join(f'{x:.2f}' for x in sql_samples)} s", flush=True)
    if engine_cold:
        engine = compute_in_subprocess(url, cycle.pk)
        print(
            f"  year-end cycle, warm (run again): {engine['units']:,} units scored,"
            f" {engine['records_read']:,} records read, {engine['seconds']:.1f} s, peak RSS"
            f" {_mb(engine['rss_peak_kb'])} (+{_mb(engine['rss_peak_kb'] - engine['rss_before_kb'])} during the run)"
            f" — {engine['entry']}"
        )
    else:
        note = "the assessment engine (`assessment.engine.run.compute_cycle`) was not available at the time of the run."

    generator.drop_helpers()
    figures = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "pg": connection.pg_version // 10000,
        "regions": [generator.regions[level] for level in (3, 4, 5, 6)],
        "rows": generator.counts,
        "generation_seconds": generation_seconds,
        "event_seconds": sum(load + idx for table, _r, load, idx in generator.timings if table == "grids_gridevent"),
        "vacuum_seconds": vacuum_seconds,
        "sql_first": sql_first,
        "sql_median": sql_median,
        "sql_samples": sql_samples,
        "engine_cold": engine_cold,
        "engine": engine,
        "note": note,
        "load": [round(load_start, 1), round(os.getloadavg()[0], 1)],
    }
    connection.close()
    print(write_section(args.scale, figures))
    if not args.keep:
        drop_database(url)


def _first_county() -> str:
    from grids.models import Region

    return Region.objects.filter(level=3).order_by("code").values_list("code", flat=True)[0]


if __name__ == "__main__":
    main()
