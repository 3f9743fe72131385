"""Benchmark of the data-credibility checks (智能预警, SPEC §5.4) on a database built by
`bench/assessment.py --keep` (county or province scale, PostgreSQL).

Times `assessment.services.credibility.run_checks` on its own — the four rules over the whole root for
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

    from assessment.engine.run import compute_cycle
    from assessment.models import CredibilityFlag, Cycle
    from assessment.periods import period_for
    from assessment.services.credibility import month_period, run_checks
    from grids.events.models import GridEvent
    from grids.models import Region

    root = Region.objects.filter(parent__isnull=True).order_by("code").first()
    if args.scale == "county":
        root = Region.objects.filter(level=3).order_by("code").first()
    year_period = period_for("year_end", 2025, None)
    load_before = os.getloadavg()[:2]
    engine = {}
    cycle = Cycle.objects.filter(kind="year_end", year=2025, root=root).first()
    shared = None
    if cycle is not None and cycle.catalogue_version_id and not cycle.is_frozen:
        started = time.perf_counter()
        summary = compute_cycle(cycle)
        engine = {"seconds": time.perf_counter() - started, "units": summary.units}
        shared = summary.event_counts
    with_cycle = (
        measure(lambda: run_checks(root_code=root.code, period=year_period, levels=cycle.levels, events=shared))
        if shared is not None
        else None
    )
    year = measure(lambda: run_checks(root_code=root.code, period=year_period))
    month = measure(lambda: run_checks(root_code=root.code, period=month_period(dt.date(2025, 12, 1))))
    load_after = os.getloadavg()[:2]
    by_rule = dict(
        CredibilityFlag.objects.filter(region_code__under=root.code).values_list("rule").annotate(n=Count("pk"))
    )
    figures = {
        "date": f"{dt.date.today()}",
        "root": root.code,
        "events": GridEvent.objects.filter(region_code__under=root.code).count(),
        "with_cycle": with_cycle,
        "engine": engine,
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
        shared = f.get("with_cycle")
        shared_text = f"{shared['median']:.2f} s ({shared['first']:.2f} first)" if shared else "—"
        engine_text = f"{f['engine']['seconds']:.1f} s" if f.get("engine") else "—"
        rows.append(
            f"| {name} | {f['events']:,} | {shared_text} | {engine_text} "
            f"| {f['year']['median']:.2f} s ({f['year']['first']:.2f} first) "
            f"| {f['month']['median']:.2f} s | {f['year']['queries']} | "
            + ", ".join(f"{k} {v}" for k, v in sorted(f["flags_by_rule"].items()))
            + f" | {f['load'][0]} → {f['load'][1]} ({f['cores']} cores) | {f['date']} |"
        )
    section = (
        "## Data-credibility checks\n\n"
        "Measured by `bench/credibility.py --scale county|province` on the database `bench/assessment.py --keep`\n"
        "built (PostgreSQL; `county` = the first county of that province). The four rules of\n"
        "`assessment.services.credibility.run_checks` over the whole root for the year 2025: **after a year-end run** (the\n"
        "event counts come from the engine's own event scan, two measures in `engine/measures.py`; the checks then\n"
        "read the cases once and the records behind their flags) — what a year-end run adds — next to the engine's\n"
        "computation itself, then **standalone** (one scan of the events of their own) and for December 2025 (the\n"
        "monthly beat, standalone). Median of three runs, the first in brackets.\n\n"
        "| scale | events in subtree | after a year-end run | the run's computation | year standalone | month | queries | flags found | load average before → after | date |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"<!-- bench/credibility.py figures: {json.dumps(stored, sort_keys=True)} -->\n"
    )
    write_doc_section(DOC, SECTION, section)


if __name__ == "__main__":
    main()
