"""Benchmark of the event ledger (台账) exports and of the pages new users found slow (issue #14).

Builds the small demo in a scratch PostgreSQL database, adds ROWS resident events (default
100,000) spread over its grids with encrypted phones, a third of them dispatched, then measures:

- the CSV and Excel ledgers of the whole province: time to the first byte, time to the last,
  size, and the peak of Python memory while streaming (tracemalloc, a separate run) for a county
  (about a quarter of the rows) and for the province — the same peak means constant memory;
- the event page for county centre staff, the department queue and /api/docs/ + /api/schema/,
  median of 5 runs after one warm-up, with their query counts.

It writes the figures into docs/performance.md (section "Ledgers and pages").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov14_bench .venv/bin/python bench/ledger.py [ROWS]

The database named in DATABASE_URL is dropped and re-created.
"""

import datetime as dt
import io
import os
import platform
import re
import statistics
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

from hierarchy import recreate_database  # noqa: E402


def build_events(rows: int) -> None:
    from django.utils import timezone

    from governance import personal_data
    from governance.codes import Level, ancestor_code
    from governance.models import Department
    from grids.events.choices import DispatchRole, DispatchState, EventSource, EventStatus
    from grids.events.models import EventCategory, EventDispatch, GridEvent
    from grids.models import Region

    grids = list(Region.objects.filter(level=Level.GRID).order_by("code"))
    categories = list(EventCategory.objects.filter(parent__isnull=False))
    police = {d.region.code: d for d in Department.objects.filter(kind="公安").select_related("region")}
    now = timezone.now()
    statuses = [EventStatus.REPORTED, EventStatus.ACCEPTED, EventStatus.DISPATCHED, EventStatus.RESOLVED]
    batch, dispatched = [], []
    for i in range(rows):
        grid = grids[i % len(grids)]
        reported = now - dt.timedelta(minutes=7 * i)
        phone = f"139{i:08d}"
        status = statuses[i % len(statuses)]
        lead = (
            police.get(ancestor_code(grid.code, Level.COUNTY))
            if status in (EventStatus.DISPATCHED, EventStatus.RESOLVED)
            else None
        )
        batch.append(
            GridEvent(
                client_uuid=uuid.uuid4(),
                category=categories[i % len(categories)],
                title=f"台账测试事件{i}",
                description="楼道堆放杂物，影响消防通道通行。" * 3,
                source=EventSource.RESIDENT,
                region=grid,
                region_code=grid.code,
                address=f"{grid.name}{i % 40}号楼",
                reporter_name="群众",
                contact_phone=personal_data.encrypt(phone),
                contact_phone_index=personal_data.blind_index(phone),
                status=status,
                handling_level=Level.VILLAGE,
                lead_department=lead,
                reported_at=reported,
                respond_deadline=reported + dt.timedelta(hours=1),
                resolve_deadline=reported + dt.timedelta(days=7),
                resolved_at=reported + dt.timedelta(days=2) if status == EventStatus.RESOLVED else None,
                resolved_level=Level.VILLAGE if status == EventStatus.RESOLVED else None,
            )
        )
        if len(batch) == 5000:
            dispatched += _flush(batch)
            batch = []
    dispatched += _flush(batch)
    EventDispatch.objects.bulk_create(
        [
            EventDispatch(
                event=e, department=e.lead_department, role=DispatchRole.LEAD, state=DispatchState.ACCEPTED,
                dispatched_at=e.reported_at + dt.timedelta(hours=1),
            )
            for e in dispatched
        ],
        batch_size=5000,
    )  # fmt: skip


def _flush(batch):
    from grids.events.models import GridEvent

    GridEvent.objects.bulk_create(batch, batch_size=5000)
    return [e for e in batch if e.lead_department_id]


def stream(client, url: str) -> tuple[float, float, int]:
    """(seconds to the first byte, seconds to the last, bytes) of a streamed download."""
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
    chunks = iter(response.streaming_content)
    first = next(chunks)
    first_at = time.perf_counter() - started
    size = len(first) + sum(len(chunk) for chunk in chunks)
    return first_at, time.perf_counter() - started, size


def peak_memory(client, url: str) -> float:
    """The peak of Python allocations (MB) while the whole download streams."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    response = client.get(url)
    for _chunk in response.streaming_content:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def page_figures(client, url: str) -> tuple[float, int]:
    from django.db import connection

    client.get(url)  # warm-up (once-a-day caches, the schema's first generation)
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        client.get(url)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), len(queries)


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (it is dropped and re-created).")
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from governance.models import User
    from grids.events.models import GridEvent

    call_command("migrate", verbosity=0)
    call_command("seed_demo", scale="small", stdout=io.StringIO())
    started = time.perf_counter()
    build_events(rows)
    build_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    province = Client()
    province.force_login(User.objects.get(username="sheng_zfw"))
    county_user = User.objects.get(username="xian_zx_620102")
    county = Client()
    county.force_login(county_user)
    total = GridEvent.objects.count()
    county_rows = GridEvent.objects.filter(region_code__startswith="620102").count()

    ledger = []
    province.get("/")  # warm-up: URL resolution, templates, the translation catalogue
    for fmt in ("csv", "xlsx"):
        first, last, size = stream(province, f"/events/export.{fmt}")
        ledger.append(
            (
                f"{fmt.upper()} ledger, province ({total:,} rows)",
                f"{first * 1000:.0f} ms",
                f"{last:.1f} s",
                f"{size / 2**20:.1f} MB",
                f"{peak_memory(county, f'/events/export.{fmt}'):.1f} MB ({county_rows:,} rows) / "
                f"{peak_memory(province, f'/events/export.{fmt}'):.1f} MB ({total:,} rows)",
            )
        )

    event = GridEvent.objects.filter(region_code__startswith="620102", lead_department__isnull=True).first()
    handler = Client()
    handler.force_login(User.objects.get(username="gaj_620102"))
    pages = []
    for label, client, page in (
        ("event page, county centre staff", county, f"/events/{event.pk}/"),
        ("department queue (county police)", handler, "/events/department/"),
        ("centre queue, county", county, "/events/queue/"),
        ("/api/docs/ (Swagger UI page)", county, "/api/docs/"),
        ("/api/schema/ (after the first generation)", county, "/api/schema/"),
    ):
        seconds, queries = page_figures(client, page)
        pages.append((label, f"{seconds * 1000:.0f} ms", str(queries)))

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    ledger_rows = "\n".join(f"| {' | '.join(row)} |" for row in ledger)
    page_rows = "\n".join(f"| {' | '.join(row)} |" for row in pages)
    section = f"""## Ledgers and pages

Measured by `bench/ledger.py` on {time.strftime("%Y-%m-%d")} ({platform.machine()}, {os.cpu_count()} cores shared,
load average {load} at the end; PostgreSQL {connection.pg_version // 10000}, Django test client in-process).
Dataset: the small demo plus {rows:,} resident events with encrypted phones (built in {build_seconds:.0f} s).

Both ledgers stream: the CSV row by row, the Excel workbook as a ZIP written while it is sent
(`governance/xlsx.py`). Memory is the peak of Python allocations while streaming (tracemalloc);
the county and the province peaks being alike is the point.

| ledger | first byte | last byte | size | peak memory |
|---|---|---|---|---|
{ledger_rows}

Pages: median of 5 requests after a warm-up; queries counted on one request.

| page | time | queries |
|---|---|---|
{page_rows}
"""
    path = ROOT / "docs" / "performance.md"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"## Ledgers and pages\n.*?(?=\n## |\Z)", "", text, flags=re.S).rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()
