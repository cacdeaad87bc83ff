from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.scim_tokens import scim_token_create
from orgconnectors.organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Create a SCIM token for an organization's identity provider. The token is printed once, "
        "alone on stdout (TOKEN=$(manage.py create_scim_token ORG)); the SCIM base URL goes to "
        "stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("org", metavar="ORG", help="The organization's slug.")
        parser.add_argument("--name", default="Identity provider", help="Which provider uses it.")

    def handle(self, *args, **options):
        slug = options["org"]
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"There is no organization {slug!r}.")
        try:
            _token, secret = scim_token_create(
                organization=organization,
                name=options["name"],
                actor=Actor.system("create_scim_token command"),
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(secret)
        self.stderr.write(f"SCIM base URL: {settings.ORGCONNECTORS_BASE_URL}/scim/v2/{slug}/")
