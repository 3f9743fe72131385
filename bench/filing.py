"""Benchmark of filing, POST /api/v1/events/, under concurrent load (issue #16, first row).

One command, on a database that holds a dataset (the province of `bench/assessment.py --scale province
--keep`, or any database with grid workers):

    .venv/bin/python bench/filing.py --database-url postgres://postgres@127.0.0.1:5432/bench_province

1. Gives a few hundred grid workers of the dataset an API token (DRF token authentication, as phones use).
2. Counts the queries of one filing in this process (and with --profile prints its cProfile and queries).
3. Starts gunicorn (gthread; 2 workers × 8 threads by default, sized for 2 cores: two processes use both
   cores, the threads overlap the database round trips) with bench/filing_settings.py, which is the
   platform's settings plus one bare Django JSON view.
4. Runs bench/loadgen.py in its own process: 50 keep-alive clients for a fixed time, first against the
   bare view, then posting new events (a fresh client_uuid each, the worker's own grid, random category,
   urgency, point and address). Reports req/s, p50/p95/p99, errors, CPU per request of gunicorn and of
   the database backends, and the load average.
5. Checks afterwards that every 201 is one event and every event filed is a 201 (nothing lost, nothing
   doubled), that each has one `report` history row and one audit entry, and that those entries are
   sealed into the chain (and the chain verifies).

Writes the figures into docs/performance.md (section "Filing"); --no-doc leaves it alone.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgdb import database_name, write_doc_section  # noqa: E402

SECTION = re.compile(r"^## Filing\n.*?(?=^## |\Z)", re.S | re.M)
FIGURES = re.compile(r"<!-- bench/filing\.py figures: (\{.*?\}) -->", re.S)
TARGET_SHARE = 0.25  # issue #16: filing reaches a quarter of the bare view's throughput
TARGET_P99_MS = 150
SEAL_WAIT_SECONDS = 30
CLK_TCK = os.sysconf("SC_CLK_TCK")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.filing_settings"
    os.environ.setdefault("AUDIT_SEAL_IN_BACKGROUND", "1")  # as the web servers run (docker-compose)
    # The chain's checkpoint belongs to this database, not to the worktree's development one.
    os.environ.setdefault("AUDIT_CHECKPOINT_PATH", str(ROOT / "var" / f"bench-filing-{database_name(url)}.json"))
    import django

    django.setup()


# --- the dataset's side ------------------------------------------------------------------------


def prepare_workers(count: int) -> dict:
    """`count` grid workers spread over the province (every k-th by id), each with an API token."""
    from rest_framework.authtoken.models import Token

    from governance.choices import Role
    from governance.codes import Level
    from governance.models import User
    from grids.events.models import EventCategory

    ids = list(
        User.objects.filter(role=Role.GRID_WORKER, is_active=True, region__level=Level.GRID)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        sys.exit("No active grid workers in this database: build one with bench/assessment.py --keep.")
    step = max(1, len(ids) // count)
    chosen = ids[::step][:count]
    have = set(Token.objects.filter(user_id__in=chosen).values_list("user_id", flat=True))
    Token.objects.bulk_create([Token(user_id=pk, key=Token.generate_key()) for pk in chosen if pk not in have])
    rows = (
        User.objects.filter(pk__in=chosen)
        .values_list("pk", "auth_token__key", "region__code", "region__centroid_lat", "region__centroid_lng")
        .order_by("pk")
    )
    workers = [{"id": pk, "token": key, "grid": code, "lat": lat, "lng": lng} for pk, key, code, lat, lng in rows]
    categories = list(EventCategory.objects.filter(is_active=True).order_by("code").values_list("code", flat=True))
    return {"workers": workers, "categories": categories}


def in_process_filing(data: dict, profile: bool) -> dict:
    """The queries of one filing through the whole Django stack (after one warm-up filing), and with
    `profile` its cProfile and query list printed."""
    from django.db import connection
    from rest_framework.test import APIClient

    worker = data["workers"][0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {worker['token']}")

    def body() -> dict:
        return {
            "client_uuid": str(uuid.uuid4()),
            "category": data["categories"][0],
            "title": "基准测试",
            "description": "bench/filing.py 的单次计数",
            "region": worker["grid"],
        }

    first = client.post("/api/v1/events/", body(), format="json")
    if first.status_code != 201:
        sys.exit(f"Filing answered {first.status_code}: {first.content[:300]!r}")
    profiler = cProfile.Profile() if profile else None
    queries: list[str] = []

    def note(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    sent = body()
    # A wrapper, not CaptureQueriesContext: Django empties the query log when a request starts.
    with connection.execute_wrapper(note):
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        response = client.post("/api/v1/events/", sent, format="json")
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
    resend = client.post("/api/v1/events/", sent, format="json")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
        for n, sql in enumerate(queries, 1):
            print(f"{n:2}. {sql[:300]}")
    return {
        "queries": len(queries),
        "ms_in_process": round(1000 * elapsed, 1),
        "status": response.status_code,
        "body_bytes": len(response.content),
        "body_keys": sorted(json.loads(response.content)),
        "resend_status": resend.status_code,
    }


# Where a filing's CPU goes: the functions whose cumulative CPU time names a phase (the first match wins,
# so a phase inside another is listed before it and subtracted from it).
PHASES = (
    ("token authentication", "governance/auth.py", "authenticate_credentials"),
    ("SLA deadlines (policy, calendar)", "grids/events/services/events.py", "_deadlines"),
    ("duplicate check", "grids/events/services/events.py", "find_likely_duplicate"),
    ("visibility check", "governance/api/base.py", "_check_still_visible"),
    ("insert event, audit entry, history", "grids/events/services/events.py", "event_file"),
    ("body validation (category, grid)", "rest_framework/serializers.py", "is_valid"),
    ("compact answer", "grids/events/api/views.py", "_filed"),
    ("request, middleware, DRF", "django/test/client.py", "request"),
)
PROFILED_FILINGS = 200


def cpu_phases(data: dict) -> list[list]:
    """[phase, ms of CPU per filing under the profiler, share] over PROFILED_FILINGS filings in this
    process (cProfile on process time: the profiler's own cost inflates the absolute figures, more so
    for code that makes many small calls; the shares are what to read)."""
    import random

    from rest_framework.test import APIClient

    chooser = random.Random(16)
    client = APIClient()
    workers = data["workers"][:50]

    def file_one() -> None:
        worker = chooser.choice(workers)
        client.credentials(HTTP_AUTHORIZATION=f"Token {worker['token']}")
        body = {
            "client_uuid": str(uuid.uuid4()),
            "category": chooser.choice(data["categories"]),
            "title": "剖析",
            "description": "bench/filing.py 的CPU剖析",
            "region": worker["grid"],
            "address": f"{chooser.randrange(300)}号",
        }
        if worker["lat"] is not None:
            body["lat"], body["lng"] = worker["lat"], worker["lng"]
        response = client.post("/api/v1/events/", body, format="json")
        assert response.status_code == 201, response.content[:300]

    for _n in range(20):
        file_one()
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _n in range(PROFILED_FILINGS):
        file_one()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    cumulative = {}
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.items():
        for phase, path, function in PHASES:
            if filename.endswith(path) and name == function:
                cumulative[phase] = cumulative.get(phase, 0.0) + ct
    total = cumulative.get("request, middleware, DRF", 0.0)
    nested = ("SLA deadlines (policy, calendar)", "duplicate check", "visibility check")  # inside event_file
    outer = ("token authentication", "insert event, audit entry, history", "body validation (category, grid)")
    inner = dict(cumulative)
    inner["insert event, audit entry, history"] -= sum(cumulative.get(p, 0.0) for p in nested)
    inner["request, middleware, DRF"] = total - sum(cumulative.get(p, 0.0) for p in (*outer, "compact answer"))
    return [
        [phase, round(1000 * inner.get(phase, 0.0) / PROFILED_FILINGS, 2), round(inner.get(phase, 0.0) / total, 3)]
        for phase, _path, _function in PHASES
        if total
    ]


# --- the server and the load -------------------------------------------------------------------


def start_server(url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.filing_settings",
        "AUDIT_SEAL_IN_BACKGROUND": os.environ.get("AUDIT_SEAL_IN_BACKGROUND", "1"),  # as docker-compose runs it
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "governance.wsgi:application",
        "--config", "python:governance.gunicorn_conf",
        "--chdir", str(ROOT),
        "--worker-class", "gthread",
        "--workers", str(workers),
        "--threads", str(threads),
        "--bind", f"127.0.0.1:{port}",
        "--keep-alive", "30",
        "--backlog", "2048",
        "--timeout", "120",
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    sys.exit("gunicorn did not answer within a minute.")


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def cpu_snapshot(master: int, dbname: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the gunicorn workers and of this database's PostgreSQL backends."""
    app, db = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            app[pid] = _proc_cpu(pid)
        elif cmdline.startswith("postgres:") and f" {dbname} " in cmdline:
            db[pid] = _proc_cpu(pid)
    return {"app": app, "db": db}


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    return {
        kind: sum(seconds - before[kind].get(pid, 0.0) for pid, seconds in after[kind].items())
        for kind in ("app", "db")
    }


def run_load(args, mode: str, port: int, master: int, dbname: str, tokens: str | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [
        sys.executable, str(ROOT / "bench" / "loadgen.py"),
        "--port", str(port), "--mode", mode, "--clients", str(args.clients),
        "--seconds", str(args.seconds), "--warmup", str(args.warmup), "--out", out,
    ]  # fmt: skip
    if tokens:
        command += ["--tokens", tokens]
    load_start = os.getloadavg()[0]
    cpu_before = cpu_snapshot(master, dbname)
    subprocess.run(command, check=True)
    cpu_after = cpu_snapshot(master, dbname)
    result = json.loads(Path(out).read_text(encoding="utf-8"))
    os.unlink(out)
    used = cpu_used(cpu_before, cpu_after)
    served = result["requests"] + len(result.get("warmup_created", [])) if mode == "file" else result["requests"]
    # The warm-up's requests used CPU too: spread the CPU over every request of the phase.
    total = max(1, served if mode == "file" else result["requests"])
    result["app_cpu_ms"] = round(1000 * used["app"] / total, 2)
    result["db_cpu_ms"] = round(1000 * used["db"] / total, 2)
    result["load"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    print(
        f"{mode:>4}: {result['rps']:8.1f} req/s  p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  "
        f"p99 {result['p99_ms']} ms  errors {result['errors']}  statuses {result['statuses']}  "
        f"CPU/request gunicorn {result['app_cpu_ms']} ms, PostgreSQL {result['db_cpu_ms']} ms  "
        f"load {result['load']}",
        flush=True,
    )
    for sample in result.get("error_samples", []):
        print("   ", sample)
    return result


# --- afterwards --------------------------------------------------------------------------------


def check_outcome(last_id_before: int, created: list[str], in_process: int) -> dict:
    """Every 201 is one event, every new event was answered 201, each has one report row and one
    audit entry, and the entries are sealed (waiting for the sealer a little)."""
    from django.db.models import Count

    from governance.audit import verify_chain
    from governance.choices import AuditAction
    from governance.models import AuditLog
    from grids.events.models import EventHistory, GridEvent

    new_events = GridEvent.objects.filter(pk__gt=last_id_before)
    ids = [str(pk) for pk in new_events.values_list("pk", flat=True)]
    found = 0
    for start in range(0, len(created), 5000):
        found += GridEvent.objects.filter(client_uuid__in=created[start : start + 5000]).count()
    doubled = new_events.values("client_uuid").annotate(n=Count("pk")).filter(n__gt=1).count()
    reports = EventHistory.objects.filter(event__in=new_events, action="report").count()
    entries = AuditLog.objects.filter(model=GridEvent._meta.label_lower, action=AuditAction.CREATE, object_id__in=ids)
    waited = 0.0
    unsealed_at_end = entries.filter(chain_seq__isnull=True).count()
    unsealed = unsealed_at_end
    while unsealed and waited < SEAL_WAIT_SECONDS:
        time.sleep(1)
        waited += 1
        unsealed = entries.filter(chain_seq__isnull=True).count()
    chain = verify_chain()
    outcome = {
        "answered_201": len(created) + in_process,
        "new_events": len(ids),
        "found_by_client_uuid": found,
        "doubled_client_uuids": doubled,
        "report_rows": reports,
        "audit_entries": entries.count(),
        "unsealed_when_load_ended": unsealed_at_end,
        "unsealed_after_wait": unsealed,
        "seconds_waited_for_sealer": waited,
        "chain_intact": chain.intact,
        "chain_checked": chain.checked,
    }
    outcome["consistent"] = (
        outcome["new_events"] == outcome["answered_201"] == outcome["report_rows"] == outcome["audit_entries"]
        and found == len(created)
        and not doubled
        and not unsealed
        and chain.intact
    )
    return outcome


# --- the document ------------------------------------------------------------------------------


def _ms(value) -> str:
    return "—" if value is None else f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def render(f: dict) -> str:
    bare, filing, out, one = f["bare"], f["filing"], f["outcome"], f["one_request"]
    share = filing["rps"] / bare["rps"] if bare["rps"] else 0.0
    met_rps = share >= TARGET_SHARE
    met_p99 = filing["p99_ms"] is not None and filing["p99_ms"] <= TARGET_P99_MS
    met_errors = filing["errors"] == 0
    verdict = "met" if met_rps and met_p99 and met_errors and out["consistent"] else "not met"
    lines = [
        "## Filing",
        "",
        f"Last measured by `bench/filing.py` on {f['measured_on']} ({f['machine']}), database "
        f"`{f['database']}` ({f['events_before']:,} events before the run). gunicorn gthread, "
        f"{f['gunicorn_workers']} workers × {f['gunicorn_threads']} threads, {f['clients']} keep-alive clients "
        f"(bench/loadgen.py, its own process), {f['warmup']:.0f} s warm-up then {f['seconds']:.0f} s measured per "
        "route, the bare view first, both in the same server run. Load average "
        f"{f['load'][0]} at start, {f['load'][1]} at the end.",
        "",
        "| route | req/s | p50 | p95 | p99 | errors | CPU per request: gunicorn | PostgreSQL | load avg |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in (("bare Django JSON view (GET)", bare), ("filing `POST /api/v1/events/`", filing)):
        lines.append(
            f"| {name} | {r['rps']:,.0f} | {_ms(r['p50_ms'])} | {_ms(r['p95_ms'])} | {_ms(r['p99_ms'])} | "
            f"{r['errors']} | {r['app_cpu_ms']:.1f} ms | {r['db_cpu_ms']:.1f} ms | {r['load'][0]} → {r['load'][1]} |"
        )
    cpu = filing["app_cpu_ms"] + filing["db_cpu_ms"]
    ceiling = 1000 * f["cores"] / cpu if cpu else 0.0
    needed = 1000 * f["cores"] / (TARGET_SHARE * bare["rps"]) if bare["rps"] else 0.0
    lines += [
        "",
        f"Filing reaches **{share:.0%}** of the bare view (target ≥ {TARGET_SHARE:.0%}), p99 "
        f"{_ms(filing['p99_ms'])} (target ≤ {TARGET_P99_MS} ms), {filing['errors']} errors: target **{verdict}**.",
        "",
        f"One filing in process: {one['queries']} queries, a {one['body_bytes']}-byte 201 "
        f"({', '.join(one['body_keys'])}).",
        "",
        f"**Where the time goes.** Filing is CPU-bound: {filing['app_cpu_ms']:.1f} ms of gunicorn CPU and "
        f"{filing['db_cpu_ms']:.1f} ms of PostgreSQL CPU per request (the bare view: {bare['app_cpu_ms']:.1f} ms), "
        f"so at that cost {f['cores']} cores serve at most ≈ {ceiling:,.0f} filings/s (CPU figures taken under a "
        "high load average are inflated by contention); a quarter of "
        f"this run's bare view needs ≤ {needed:.1f} ms of CPU per filing, application and database together. "
        "The latency is queueing behind that CPU (50 clients ÷ the throughput). Shares of a filing's "
        f"application CPU ({PROFILED_FILINGS} filings in process under cProfile on process time, which also "
        "counts the sealer thread and inflates the absolute figures; read the shares):",
        "",
        "| phase | share |",
        "|---|---|",
        *(f"| {phase} | {share_:.0%} |" for phase, _ms, share_ in f["cpu_phases"]),
        "",
        f"Afterwards: {out['answered_201']:,} answers 201, {out['new_events']:,} new events "
        f"({out['found_by_client_uuid']:,} found by the client_uuids answered 201), "
        f"{out['doubled_client_uuids']} doubled, {out['report_rows']:,} `report` history rows, "
        f"{out['audit_entries']:,} audit entries; {out['unsealed_when_load_ended']} unsealed when the load "
        f"ended, {out['unsealed_after_wait']} after {out['seconds_waited_for_sealer']:.0f} s; chain "
        f"{'intact' if out['chain_intact'] else 'BROKEN'} ({out['chain_checked']:,} positions): "
        f"{'consistent' if out['consistent'] else 'INCONSISTENT'}.",
        "",
        f"<!-- bench/filing.py figures: {json.dumps(f, ensure_ascii=False, sort_keys=True)} -->",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="PostgreSQL database holding a dataset")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per route")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--grid-workers", type=int, default=300, help="how many grid workers file")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--profile", action="store_true", help="print cProfile and queries of one filing")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args()
    if urlparse(args.database_url).scheme not in ("postgres", "postgresql"):
        sys.exit("--database-url must be a PostgreSQL URL.")

    setup_django(args.database_url)
    from django.db import connection
    from django.utils import timezone

    from grids.events.models import GridEvent

    load_start = os.getloadavg()[0]
    data = prepare_workers(args.grid_workers)
    events_before = GridEvent.objects.count()
    last_id_before = GridEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    one = in_process_filing(data, args.profile)
    print(f"one filing in process: {one}", flush=True)
    phases = cpu_phases(data)
    for phase, ms, share in phases:
        print(f"  {phase:<40} {ms:6.2f} ms {share:6.1%}")
    tokens = Path(tempfile.mkstemp(suffix=".json")[1])
    tokens.write_text(json.dumps(data), encoding="utf-8")
    connection.close()

    dbname = database_name(args.database_url)
    server = start_server(args.database_url, args.port, args.workers, args.threads)
    try:
        bare = run_load(args, "bare", args.port, server.pid, dbname, None)
        filing = run_load(args, "file", args.port, server.pid, dbname, str(tokens))
    finally:
        server.terminate()
        server.wait(timeout=60)
        tokens.unlink()
    created = filing["created"] + filing["warmup_created"]
    outcome = check_outcome(last_id_before, created, in_process=2 + 20 + PROFILED_FILINGS)
    print(f"outcome: {outcome}", flush=True)
    for result in (bare, filing):
        for key in ("created", "warmup_created"):
            result.pop(key, None)
    figures = {
        "measured_on": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "cores": os.cpu_count(),
        "database": dbname,
        "events_before": events_before,
        "clients": args.clients,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "gunicorn_workers": args.workers,
        "gunicorn_threads": args.threads,
        "one_request": one,
        "cpu_phases": phases,
        "bare": bare,
        "filing": filing,
        "outcome": outcome,
        "load": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }
    if not args.no_doc:
        write_doc_section(ROOT / "docs" / "performance.md", SECTION, render(figures))
        print("docs/performance.md: section Filing written.")
    if not outcome["consistent"]:
        sys.exit("The outcome is inconsistent: see above.")


if __name__ == "__main__":
    main()
