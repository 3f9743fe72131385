from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grids import services


class Command(BaseCommand):
    help = "Import regions from a CSV (code,name,level,parent_code,...) or GeoJSON file; idempotent, with a per-row report."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check every row, keep nothing")

    def handle(self, *args, file: Path, dry_run: bool, **options):
        if not file.exists():
            raise CommandError(f"No such file: {file}")
        reader = services.read_geojson if file.suffix.lower() in {".geojson", ".json"} else services.read_csv
        with file.open(encoding="utf-8-sig", newline="") as stream:
            report = services.import_regions(rows=reader(stream), dry_run=dry_run)
        for row in report.rejected:
            reasons = "; ".join(f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in row.errors.items())
            self.stderr.write(f"line {row.line} {row.code or '-'} rejected: {reasons}")
        summary = ", ".join(f"{name} {n}" for name, n in report.summary.items())
        self.stdout.write(("[dry run] " if dry_run else "") + summary)
