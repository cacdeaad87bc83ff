from django.core.management.base import BaseCommand, CommandError

from orgconnectors.audit.chain import audit_chain_verify
from orgconnectors.organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Check each organization's audit trail against its hash chain and report the first "
        "broken link: an edited event, a removed or inserted one. Exits with status 1 if any "
        "chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", help="Only this organization.")

    def handle(self, *args, **options):
        organizations = Organization.objects.order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"There is no organization {options['org']!r}.")
        broken = 0
        for organization in organizations.iterator():
            report = audit_chain_verify(organization=organization)
            if report.intact:
                self.stdout.write(f"{organization.slug}: intact ({report.events} events)")
                continue
            broken += 1
            link = report.broken
            when = f" at {link.created_at:%Y-%m-%d %H:%M:%S.%f %Z}" if link.created_at else ""
            self.stdout.write(
                f"{organization.slug}: BROKEN at event {link.event_id}{when}, after "
                f"{report.events} intact events: {link.reason}. "
                f"Expected {link.expected}, found {link.found}."
            )
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken; see above.")
