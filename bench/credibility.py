"""Benchmark of the data-credibility checks (智能预警, SPEC §5.4) on a database built by
`bench/assessment.py --keep` (county or province scale, PostgreSQL).

Times `assessment.credibility.run_checks` on its own — the four rules over the whole root for
the year 2025 (what every year-end run adds) and for one month (what the monthly beat runs) —
three samples each, counts its queries, and writes the figures with the load average into
docs/performance.md (section "Data-credibility checks"; the other scale's row is kept).

    .venv/bin/python bench/assessment.py --scale province --database-url postgres://…/bench12 --keep
    .venv/bin/python bench/credibility.py --scale province --database-url postgres://…/bench12

The database is read and the flags table written; nothing else is changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgdb import database_name, write_doc_section  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
SECTION = re.compile(r"## Data-credibility checks\n.*?(?=\n## |\Z)", re.S)
FIGURES = re.compile(r"<!-- bench/credibility.py figures: (\{.*?\}) -->")
SAMPLES = 3


def measure(fn) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds, queries = [], 0
    for _ in range(SAMPLES):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            flags = fn()
            seconds.append(time.perf_counter() - started)
        queries = len(ctx.captured_queries)
    return {
        "first": seconds[0],
        "median": statistics.median(seconds),
        "samples": seconds,
        "queries": queries,
        "flags": len(flags),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["county", "province"], required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    if database_name(args.database_url) in ("governance", "test", ""):
        sys.exit("Use the benchmark database built by bench/assessment.py --keep.")
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.db.models import Count

    from assessment.credibility import month_period, run_checks
    from assessment.models import CredibilityFlag
    from assessment.periods import period_for
    from grids.models import GridEvent, Region

    root = Region.objects.filter(parent__isnull=True).order_by("code").first()
    if args.scale == "county":
        root = Region.objects.filter(level=3).order_by("code").first()
    load_before = os.getloadavg()[:2]
    year = measure(lambda: run_checks(root_code=root.code, period=period_for("year_end", 2025, None)))
    month = measure(lambda: run_checks(root_code=root.code, period=month_period(dt.date(2025, 12, 1))))
    load_after = os.getloadavg()[:2]
    by_rule = dict(
        CredibilityFlag.objects.filter(region_code__under=root.code).values_list("rule").annotate(n=Count("pk"))
    )
    figures = {
        "date": f"{dt.date.today()}",
        "root": root.code,
        "events": GridEvent.objects.filter(region_code__under=root.code).count(),
        "year": year,
        "month": month,
        "flags_by_rule": by_rule,
        "load": [round(load_before[0], 1), round(load_after[0], 1)],
        "cores": os.cpu_count(),
    }
    print(json.dumps(figures, indent=2))
    write_doc(args.scale, figures)


def write_doc(scale: str, figures: dict) -> None:
    text = DOC.read_text(encoding="utf-8")
    found = FIGURES.search(text)
    stored = json.loads(found.group(1)) if found else {}
    stored[scale] = figures
    rows = []
    for name in ("county", "province"):
        f = stored.get(name)
        if not f:
            continue
        rows.append(
            f"| {name} | {f['events']:,} | {f['year']['median']:.2f} s ({f['year']['first']:.2f} first) "
            f"| {f['month']['median']:.2f} s | {f['year']['queries']} | "
            + ", ".join(f"{k} {v}" for k, v in sorted(f["flags_by_rule"].items()))
            + f" | {f['load'][0]} → {f['load'][1]} ({f['cores']} cores) | {f['date']} |"
        )
    section = (
        "## Data-credibility checks\n\n"
        "Measured by `bench/credibility.py --scale county|province` on the database `bench/assessment.py --keep`\n"
        "built (PostgreSQL). The four rules of `assessment.credibility.run_checks` over the whole root: the year\n"
        "2025 (what each year-end run adds after computing the scores) and December 2025 (the monthly beat); median\n"
        "of three runs, with the first run in brackets. Each rule is one grouped query over the subtree plus one\n"
        "query for the records behind its flags, whatever the number of units.\n\n"
        "| scale | events in subtree | year (median) | month (median) | queries | flags found | load average before → after | date |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"<!-- bench/credibility.py figures: {json.dumps(stored, sort_keys=True)} -->\n"
    )
    write_doc_section(DOC, SECTION, section)


if __name__ == "__main__":
    main()
