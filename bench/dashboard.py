"""Benchmark of the committee's dashboard (SPEC §5.5) on the province-scale assessment dataset.

Reads the database `bench/assessment.py --scale province --keep` leaves behind (the province's
hierarchy with outlines down to the townships, a year of records and its computed year-end
cycle), and times through the whole Django stack (URL, view, JSON rendering) as a province
committee member:

- the JSON of the province's dashboard and of a county's, cold (cache emptied before each
  request) and warm (cached), with the number of SQL queries of each;
- the province's county outlines document, as sent (gzip) and unpacked;
- with `--refresh`, first the rebuild of the monthly activity counts the dashboard reads (what the
  beat runs every hour).

Writes the figures into docs/performance.md (section "Dashboard").

    .venv/bin/python bench/assessment.py --scale province --keep \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_assessment
    .venv/bin/python bench/dashboard.py --database-url postgres://postgres@127.0.0.1:5432/bench_assessment
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgdb import check_url, write_doc_section  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

WARM_REQUESTS = 60
COLD_REQUESTS = 8
SECTION = re.compile(r"^## Dashboard\n.*?(?=^## |\Z)", re.S | re.M)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def measure(client, url: str) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cold, warm, queries = [], [], 0
    client.get(url)  # the process's first request (imports, URL resolver, catalogues) is not timed
    for _n in range(COLD_REQUESTS):
        cache.clear()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        cold.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    for _n in range(WARM_REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        warm.append(time.perf_counter() - started)
    children = len(response.json()["children"])
    return {
        "children": children,
        "cold_p95": p95(cold) * 1000,
        "cold_median": statistics.median(cold) * 1000,
        "warm_p95": p95(warm) * 1000,
        "warm_median": statistics.median(warm) * 1000,
        "queries": queries,
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--refresh", action="store_true", help="time the hourly rebuild of the monthly counts first")
    args = parser.parse_args()
    check_url(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)  # the local-memory cache: the figures are the app's, not the network's

    import django

    django.setup()
    from django.test import Client

    from governance.choices import Role
    from governance.codes import Level
    from governance.models import User
    from grids.models import Region

    load_start = os.getloadavg()[0]
    refresh = None
    if args.refresh:
        from dashboard.services import refresh_activity

        started = time.perf_counter()
        rows = refresh_activity()
        refresh = (time.perf_counter() - started, rows)
    province = Region.objects.get(level=Level.PROVINCE)
    county = (
        Region.objects.filter(level=Level.COUNTY).order_by("code").first()
    )  # the first county: 13–16 townships like every other
    user, _created = User.objects.get_or_create(
        username="bench_committee", defaults={"role": Role.COMMITTEE_STAFF, "region": province}
    )
    client = Client()
    client.force_login(user)
    figures = {
        "province": measure(client, f"/api/v1/dashboard/{province.code}/"),
        "county": measure(client, f"/api/v1/dashboard/{county.code}/"),
    }
    outlines = client.get(f"/api/v1/dashboard/{province.code}/outlines/", HTTP_ACCEPT_ENCODING="gzip")
    body = outlines.content
    counties = Region.objects.filter(level=Level.COUNTY).count()
    plain = gzip.decompress(body) if outlines.get("Content-Encoding") == "gzip" else body
    load_end = os.getloadavg()[0]
    section = render(figures, len(body), len(plain), counties, (load_start, load_end), refresh)
    write_doc_section(ROOT / "docs" / "performance.md", SECTION, section)
    print(section)


def render(figures: dict, sent: int, plain: int, counties: int, load: tuple[float, float], refresh) -> str:
    rows = "\n".join(
        f"| {name} ({f['children']} children) | {f['cold_median']:.0f} / {f['cold_p95']:.0f} ms"
        f" | {f['warm_median']:.1f} / {f['warm_p95']:.1f} ms | {f['queries']} | {f['bytes'] / 1024:.0f} KB |"
        for name, f in figures.items()
    )
    refreshed = (
        f"Rebuilding the monthly activity counts (the beat's hourly `refresh_activity`): {refresh[0]:.0f} s for"
        f" {refresh[1]:,} rows.\n\n"
        if refresh
        else ""
    )
    return f"""## Dashboard

`bench/dashboard.py` on the province-scale dataset of `bench/assessment.py` (its year-end cycle of 2025),
through the whole Django stack as a province committee member, after one untimed request that warms the
process; cold = cache emptied before each of {COLD_REQUESTS} requests, warm = {WARM_REQUESTS} cached requests. Targets: warm p95 ≤ 150 ms, cold ≤ 1 s, the
same number of queries whatever the number of children, the province's county outlines ≤ 300 KB compressed.

| dashboard JSON | cold median / p95 | warm median / p95 | SQL queries | JSON size |
|---|---|---|---|---|
{rows}

County outlines of the province ({counties} counties): {sent / 1024:.0f} KB sent gzip-compressed,
{plain / 1024:.0f} KB unpacked.

{refreshed}With a load average far above the number of cores, a p95 mostly measures waiting for a core; the
medians are the better guide to the code.

Machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores; load average
(1 min) {load[0]:.1f} at start, {load[1]:.1f} at end.
"""


if __name__ == "__main__":
    main()
