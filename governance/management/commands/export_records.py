"""python manage.py export_records CODE --from DATE --to DATE [--as USERNAME] [-o FILE]"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from governance.interchange.exporter import export_records
from governance.models import User


class Command(BaseCommand):
    help = "Export a subtree's records dated FROM..TO in the interchange format (docs/import-format.md)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--from", dest="start", required=True)
        parser.add_argument("--to", dest="end", required=True)
        parser.add_argument(
            "--as", dest="username", help="whose jurisdiction and masking apply (default: unrestricted)"
        )
        parser.add_argument("--source", default="platform")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, code, start, end, username, source, output, **options):
        start_day, end_day = parse_date(start or ""), parse_date(end or "")
        if start_day is None or end_day is None or end_day < start_day:
            raise CommandError("--from and --to must be dates YYYY-MM-DD, --from not after --to")
        user = User.objects.filter(username=username).first() if username else None
        if username and user is None:
            raise CommandError(f"unknown user {username!r}")
        out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            for line in export_records(code=code, start=start_day, end=end_day, user=user, source=source):
                out.write(line)
        except PermissionError as exc:
            raise CommandError(f"region {code} does not exist or lies outside the jurisdiction") from exc
        finally:
            if output:
                out.close()
