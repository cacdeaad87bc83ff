import time

from django.core.management.base import BaseCommand, CommandError

from orgconnectors.outbox.publish import outbox_pending_count, outbox_relay


class Command(BaseCommand):
    help = (
        "Send the tasks waiting in the outbox to the broker (what beat's outbox.relay does "
        "every 5 seconds). Once, or every N seconds with --every."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=0, help="Keep relaying every this many seconds."
        )

    def handle(self, *args, every: float, **options):
        if every < 0:
            raise CommandError("--every must be a positive number of seconds.")
        while True:
            sent = outbox_relay()
            self.stdout.write(f"Sent {sent} task(s); {outbox_pending_count()} still pending.")
            if not every:
                return
            time.sleep(every)
