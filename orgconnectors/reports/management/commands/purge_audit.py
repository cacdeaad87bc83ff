from django.core.management.base import BaseCommand

from orgconnectors.reports.retention import audit_retention_purge


class Command(BaseCommand):
    help = (
        "Remove audit and usage events older than each organization's retention (what the "
        "nightly beat task does), recording an audit.purged event for each organization."
    )

    def handle(self, *args, **options):
        purged = audit_retention_purge()
        self.stdout.write(
            f"Removed {purged.audit_events} audit events, {purged.usage_events} usage events "
            f"and {purged.usage_days} daily usage counts."
        )
