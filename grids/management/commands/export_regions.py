import sys

from django.core.management.base import BaseCommand, CommandError

from grids import services
from grids.models import Region


class Command(BaseCommand):
    help = "Export a region's subtree as CSV or GeoJSON to standard output."

    def add_arguments(self, parser):
        parser.add_argument("code", help="region code whose subtree to export")
        parser.add_argument("--format", choices=["csv", "geojson"], default="csv")

    def handle(self, *args, code: str, format: str, **options):
        if not Region.objects.filter(code=code).exists():
            raise CommandError(f"No region with code {code}")
        regions = Region.objects.under(code).order_by("code").iterator(chunk_size=2000)
        writer = services.export_csv if format == "csv" else services.export_geojson
        for chunk in writer(regions):
            sys.stdout.write(chunk)
