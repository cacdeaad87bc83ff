from django.core.management.base import BaseCommand, CommandError

from orgconnectors.audit.signing import key_id_of, new_private_key_base64, parse_private_key
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.organizations.models import Organization
from orgconnectors.reports.digests import audit_digest_publish


class Command(BaseCommand):
    help = (
        "Sign a digest of each organization's audit chain now (the beat does it every hour), "
        "with the key in ORGCONNECTORS_AUDIT_SIGNING_KEY; --new-key prints a new key instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", help="Only this organization.")
        parser.add_argument(
            "--new-key",
            action="store_true",
            help="Print a new Ed25519 private key (base64) for ORGCONNECTORS_AUDIT_SIGNING_KEY.",
        )

    def handle(self, *args, **options):
        if options["new_key"]:
            key = new_private_key_base64()
            key_id = key_id_of(parse_private_key(key).public_key())
            self.stdout.write(key)
            self.stderr.write(f"Key id {key_id}. Keep it out of the database and of the logs.")
            return
        organizations = Organization.objects.order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"There is no organization {options['org']!r}.")
        actor = Actor.system("command:publish_audit_digests")
        for organization in organizations.iterator():
            try:
                digest = audit_digest_publish(organization=organization, actor=actor)
            except ServiceError as error:
                raise CommandError(error.message) from None
            self.stdout.write(
                f"{organization.slug}: signed through event {digest.last_event_id} "
                f"(position {digest.seq}) with key {digest.key_id}."
            )
