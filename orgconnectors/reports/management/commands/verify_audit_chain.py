from django.core.management.base import BaseCommand, CommandError

from orgconnectors.audit.chain import audit_chain_verify, chain_seal
from orgconnectors.audit.signing import SETTING, signing_key
from orgconnectors.organizations.models import Organization
from orgconnectors.reports.digests import audit_digests_verify


class Command(BaseCommand):
    help = (
        "Check each organization's audit trail against its hash chain and report the first "
        "broken link: an edited event, a removed or inserted one. Then check it against the "
        "signed digests, which also show an edit whose hashes were recomputed, and name the "
        "first event that no longer matches. Exits with status 1 if any check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", help="Only this organization.")

    def handle(self, *args, **options):
        organizations = Organization.objects.order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"There is no organization {options['org']!r}.")
        digests_on = signing_key() is not None
        if not digests_on:
            self.stdout.write(f"Signed digests are off ({SETTING} is not set): chains only.")
        broken = 0
        for organization in organizations.iterator():
            broken += not self._chain(organization)
            if digests_on:
                broken += not self._digests(organization)
        if broken:
            raise CommandError(
                f"{broken} audit chain(s) broken or unlike their signed digests; see above."
            )

    def _chain(self, organization) -> bool:
        # What committed writers left for the sealer is linked first, so all of it is checked.
        chain_seal(organization_id=organization.pk)
        report = audit_chain_verify(organization=organization)
        if report.intact:
            waiting = f", {report.unsealed} committed meanwhile" if report.unsealed else ""
            self.stdout.write(f"{organization.slug}: intact ({report.events} events{waiting})")
            return True
        link = report.broken
        when = f" at {link.created_at:%Y-%m-%d %H:%M:%S.%f %Z}" if link.created_at else ""
        self.stdout.write(
            f"{organization.slug}: BROKEN at event {link.event_id}{when}, after "
            f"{report.events} intact events: {link.reason}. "
            f"Expected {link.expected}, found {link.found}."
        )
        return False

    def _digests(self, organization) -> bool:
        report = audit_digests_verify(organization=organization)
        if report.intact and not report.digests:
            return True  # nothing signed yet: the hourly run signs once there are events
        if report.intact:
            latest = (
                f", the latest signed at {report.latest_signed_at:%Y-%m-%d %H:%M:%S %Z}"
                if report.latest_signed_at
                else ""
            )
            self.stdout.write(
                f"{organization.slug}: matches its {report.digests} signed digest(s){latest}"
            )
            return True
        self.stdout.write(f"{organization.slug}: DIGEST MISMATCH: {report.broken.message}")
        return False
