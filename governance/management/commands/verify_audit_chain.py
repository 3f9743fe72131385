from django.core.management.base import BaseCommand, CommandError

from governance import audit


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero at the first tampered or missing entry."

    def handle(self, *args, **options):
        checked, broken_at = audit.verify_chain()
        if broken_at is not None:
            raise CommandError(f"Audit chain broken at entry #{broken_at} (after {checked} intact entries).")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} entries."))
