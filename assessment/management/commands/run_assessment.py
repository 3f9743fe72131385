"""python manage.py run_assessment --cycle year_end --year 2025 --root 62 [--quarter 1] [--queue]

Creates the cycle if it does not exist yet and computes it here with a progress bar, or, with
--queue, hands it to the Celery worker. Re-running an unfinalised cycle replaces its results.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from grids.models import Region

from ...choices import CycleKind, CycleStatus
from ...services import AssessmentError, create_cycle, start_run


class Command(BaseCommand):
    help = "Run a quarterly spot-check, half-year evaluation or year-end assessment cycle."

    def add_arguments(self, parser):
        parser.add_argument("--cycle", required=True, choices=CycleKind.values, help="cycle kind")
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument("--quarter", type=int, choices=[1, 2, 3, 4], help="for spot_check")
        parser.add_argument("--root", required=True, help="region code of the organising unit, e.g. 62")
        parser.add_argument("--queue", action="store_true", help="run on the Celery worker instead of here")

    def handle(self, *args, **options):
        from ...services import progress_recorder, run_cycle

        try:
            root = Region.objects.get(code=options["root"])
        except Region.DoesNotExist as exc:
            raise CommandError(f"no region with code {options['root']}") from exc
        try:
            cycle = create_cycle(kind=options["cycle"], year=options["year"], quarter=options["quarter"], root=root)
            if options["queue"]:
                start_run(cycle)
                self.stdout.write(f"cycle {cycle.pk} queued")
                return
        except AssessmentError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if cycle.status == CycleStatus.FINALISED:
            raise CommandError("the cycle is finalised; its results are frozen")
        with tqdm(total=100, unit="%", desc=str(cycle)) as bar:
            stored = progress_recorder(cycle.pk)

            def progress(pct, note):
                stored(pct, note)
                bar.set_postfix_str(str(note))
                bar.update(pct - bar.n)

            summary = run_cycle(cycle.pk, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"cycle {cycle.pk}: {summary.units} units scored, {summary.records_read} records read, "
                f"{summary.queries} aggregate queries, {summary.seconds:.2f} s"
            )
        )
