import time

from django.core.management.base import BaseCommand

from grids.demo import DEMO_PASSWORD, SCALES, DemoBuilder
from grids.models import Region


class Command(BaseCommand):
    help = "Build the demo province (small: seconds; county / province: benchmark sizes) with users for every role."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(SCALES), default="small")

    def handle(self, *args, scale: str, **options):
        if Region.objects.exists():
            self.stdout.write("Regions already exist: demo data is not built twice. (Use a fresh database to rebuild.)")
            return
        started = time.monotonic()
        accounts = DemoBuilder(scale).build()
        counts = {level: Region.objects.filter(level=level).count() for level in range(1, 7)}
        if scale == "small":
            from assessment.demo import build as build_assessment

            built = build_assessment()
            self.stdout.write("Assessment demo: " + ", ".join(f"{k} {v}" for k, v in built.items()))
        from dashboard.services import refresh_activity

        refresh_activity()  # the dashboard's monthly counts (the beat refreshes them hourly afterwards)
        self.stdout.write(
            f"Built '{scale}' in {time.monotonic() - started:.1f}s: "
            + ", ".join(f"level {level}: {n}" for level, n in counts.items())
        )
        self.stdout.write("\nDemo accounts (DEMO ONLY — every account below shares this password):")
        self.stdout.write(f"  password: {DEMO_PASSWORD}")
        for username, role, region in accounts:
            self.stdout.write(f"  {username:<28} {role:<8} {region}")
