from django.core.management.base import BaseCommand, CommandError

from governance import audit

REASONS = {
    "altered": "entry #{at} was altered (its keyed hash does not match)",
    "missing": "entry #{at} is missing (deleted)",
    "unknown_key": "entry #{at} was sealed with a key that AUDIT_CHAIN_KEYS no longer lists",
    "truncated": "entries from #{at} on are missing (the checkpoint names a later head)",
    "checkpoint_forged": "the checkpoint file's signature does not verify",
    "checkpoint_missing": "the checkpoint file is missing, so a cut tail could not be detected",
}


class Command(BaseCommand):
    help = (
        "Seal pending audit entries, then verify the keyed audit chain and its checkpoint; "
        "exits non-zero naming the first altered or missing position."
    )

    def handle(self, *args, **options):
        audit.seal_pending()
        report = audit.verify_chain()
        if not report.intact:
            reason = REASONS[report.reason].format(at=report.broken_at)
            raise CommandError(f"Audit chain broken: {reason} (after {report.checked} intact entries).")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} entries."))
