import time

from django.core.management.base import BaseCommand

from governance import demo


class Command(BaseCommand):
    help = "Build the demo province (small: seconds; county / province: benchmark sizes) with users for every role."

    def add_arguments(self, parser):
        scales = demo.scales()
        parser.add_argument("--scale", choices=scales, default=scales[0])

    def handle(self, *args, scale: str, **options):
        reason = demo.refusal()
        if reason:
            self.stdout.write(reason)
            return
        started = time.monotonic()
        run = demo.build(demo.DemoRun(scale, write=self.stdout.write))
        self.stdout.write(f"Built '{scale}' in {time.monotonic() - started:.1f}s: " + run.summary)
        self.stdout.write("\nDemo accounts (DEMO ONLY — every account below shares this password):")
        self.stdout.write(f"  password: {demo.DEMO_PASSWORD}")
        for username, role, region in run.accounts:
            self.stdout.write(f"  {username:<28} {role:<8} {region}")
