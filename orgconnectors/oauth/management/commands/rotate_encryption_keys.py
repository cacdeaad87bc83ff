from django.core.management.base import BaseCommand

from orgconnectors.encryption import DecryptionFailed
from orgconnectors.oauth.key_rotation import secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (connector client secrets, registered clients, members' "
        "tokens) under the first key of ORGCONNECTORS_ENCRYPTION_KEYS. Put the new key first, "
        "run this, then remove the old key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        def progress(label: str, total: int) -> None:
            self.stdout.write(f"  {label}: {total} re-encrypted so far")

        try:
            counts = secrets_reencrypt(batch_size=batch_size, on_progress=progress)
        except DecryptionFailed as failure:
            self.stderr.write(
                f"Stopped: {failure}. Put every key still in use into "
                "ORGCONNECTORS_ENCRYPTION_KEYS (the new one first) and run this again."
            )
            raise SystemExit(1) from None
        for label, total in counts.items():
            self.stdout.write(f"{label}: {total}")
        self.stdout.write(self.style.SUCCESS("Every secret is now encrypted under the first key."))
