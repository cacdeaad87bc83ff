from django.core.management.base import BaseCommand

from orgconnectors.core.actor import Actor
from orgconnectors.oauth.errors import KeyRotationRefused
from orgconnectors.oauth.key_rotation_runs import key_rotation_run_here
from orgconnectors.oauth.models import KeyRotation


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (connector client secrets, registered clients, members' "
        "tokens) under the first key of ORGCONNECTORS_ENCRYPTION_KEYS. Put the new key first, "
        "run this, then remove the old key. Recorded like a rotation started in the admin "
        "(Key rotations), and refused while another one is queued or running."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        def progress(label: str, total: int) -> None:
            self.stdout.write(f"  {label}: {total} re-encrypted so far")

        try:
            rotation = key_rotation_run_here(
                actor=Actor.system("rotate_encryption_keys command"),
                batch_size=batch_size,
                on_progress=progress,
            )
        except KeyRotationRefused as refusal:
            self.stderr.write(refusal.message)
            raise SystemExit(1) from None
        if rotation.status != KeyRotation.Status.DONE:
            self.stderr.write(rotation.error or f"{rotation} did not finish; see the admin.")
            raise SystemExit(1)
        for label, done, _total in rotation.kinds():
            self.stdout.write(f"{label}: {done}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Every secret is now encrypted under the first key "
                f"(fingerprint {rotation.key_fingerprint}); recorded as {rotation}."
            )
        )
