"""python manage.py import_records FILE [--dry-run] [--as USERNAME] [--report report.json]"""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from governance.interchange.importer import import_records
from governance.models import User


class Command(BaseCommand):
    help = "Import historical records from an interchange file (JSON Lines, docs/import-format.md): all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
        parser.add_argument("--as", dest="username", help="the user whose jurisdiction applies (default: unrestricted)")
        parser.add_argument("--report", help="write the full report (every rejected row) to this JSON file")

    def handle(self, *args, file, dry_run, username, report, **options):
        user = None
        if username:
            user = User.objects.select_related("region").filter(username=username).first()
            if user is None:
                raise CommandError(f"unknown user {username!r}")
        if not os.path.exists(file):
            raise CommandError(f"no such file: {file}")
        size = os.path.getsize(file)
        bars: dict[str, tqdm] = {}

        def open_stream():
            return open(file, encoding="utf-8-sig")

        def progress(phase: str, line: int) -> None:
            bar = bars.get(phase)
            if bar is None:
                bar = bars[phase] = tqdm(desc=phase, unit=" lines", disable=options["verbosity"] == 0 or size < 1)
            bar.update(line - bar.n)

        result = import_records(open_stream=open_stream, user=user, dry_run=dry_run, progress=progress, name=file)
        for bar in bars.values():
            bar.close()
        if report:
            with open(report, "w", encoding="utf-8") as out:
                json.dump(result.as_dict(), out, ensure_ascii=False, indent=1)
        for row in result.rejected[:200]:
            reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in row.reasons.items())
            self.stderr.write(f"line {row.line} {row.kind} {row.external_id}: {reasons}")
        summary = f"created {result.created} unchanged {result.unchanged} rejected {len(result.rejected)}"
        if result.rejected:
            raise CommandError(f"nothing imported: {len(result.rejected)} rejected rows. {summary}")
        verb = "validated (dry run, nothing written)" if dry_run else "imported"
        self.stdout.write(self.style.SUCCESS(f"{verb}: {summary}"))
