from django.core.management.base import BaseCommand

from governance import audit, personal_data
from governance.choices import AuditAction


class Command(BaseCommand):
    help = "Re-encrypt all personal data under the first key of PERSONAL_DATA_KEYS (key rotation)."

    def handle(self, *args, **options):
        count = personal_data.rotate_all()
        audit.record(
            AuditAction.BULK, model_label="personal_data", object_repr="key rotation", changes={"values": count}
        )
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} values under the newest key."))
