"""Benchmark of the hierarchy at province scale on PostgreSQL.

Builds `seed_demo --scale province` (~98 counties, 1,400 townships, 72,000 grids) in a
scratch database, then times the subtree reads every page and API list depends on, and
writes the figures into docs/performance.md (section "Hierarchy").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hierarchy .venv/bin/python bench/hierarchy.py

The database named in DATABASE_URL is dropped and re-created.
"""

import io
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


def recreate_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    base = ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    subprocess.run(["dropdb", "--if-exists", *base, name], check=True)
    subprocess.run(["createdb", *base, name], check=True)


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def _drain(response):
    b"".join(response.streaming_content)  # the export is streamed: time the whole body
    return response


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (it is dropped and re-created).")
    recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.test import APIClient

    from governance.models import User
    from grids.models import Region

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", scale="province", stdout=io.StringIO())
    seed_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    province_user = User.objects.get(username="sheng_zfw")
    county_code = "620102"
    counts = {level: Region.objects.filter(level=level).count() for level in range(1, 7)}
    rows = []

    def measure(label: str, fn, *, queries: bool = True) -> None:
        executed = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            result = fn()
        status = getattr(result, "status_code", 200)
        assert status == 200, f"{label}: HTTP {status}"
        seconds, _ = timed(fn)
        rows.append((label, f"{seconds * 1000:.1f} ms", str(len(executed)) if queries else "—"))

    api = APIClient()
    api.force_authenticate(province_user)
    page = Client()
    page.force_login(province_user)
    measure(
        "count a county's grids (`restrict` + `under`)",
        lambda: Region.objects.restrict(province_user).under(county_code).grids().count(),
    )
    measure("count the province's grids", lambda: Region.objects.restrict(province_user).under("62").grids().count())
    measure(
        "API: list a county's grids, 500 per page",
        lambda: api.get(f"/api/v1/regions/?under={county_code}&level=6&page_size=500"),
    )
    measure("API: list the province's grids, 500 per page", lambda: api.get("/api/v1/regions/?level=6&page_size=500"))
    measure("page: province (children with grid and flag counts)", lambda: page.get("/regions/62/"))
    measure("page: county", lambda: page.get(f"/regions/{county_code}/"))
    measure("page: home of a province user", lambda: page.get("/"))
    measure("CSV export of a county subtree", lambda: _drain(page.get(f"/regions/{county_code}/export.csv")))

    figures = "\n".join(f"| {label} | {seconds} | {queries} |" for label, seconds, queries in rows)
    section = f"""## Hierarchy

Measured by `bench/hierarchy.py` on {time.strftime("%Y-%m-%d")} ({platform.machine()}, {os.cpu_count()} cores,
PostgreSQL {connection.pg_version // 10000}); medians of 5 runs, queries counted on the first.

Dataset (`seed_demo --scale province`, built in {seed_seconds:.1f} s): {counts[2]} cities, {counts[3]} counties,
{counts[4]} townships, {counts[5]} villages, {counts[6]} grids.

| operation | time | queries |
|---|---|---|
{figures}
"""
    path = ROOT / "docs" / "performance.md"
    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else "# Performance\n\nFigures written by the scripts under `bench/`.\n"
    )
    text = re.sub(r"## Hierarchy\n.*?(?=\n## |\Z)", "", text, flags=re.S).rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()
