import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.break_glass import DEFAULT_MINUTES, break_glass_issue
from orgconnectors.organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Issue an owner of ORG a one-time sign-in link for when the organization requires single "
        "sign-on and its identity provider cannot sign them in (docs/identity.md, Break-glass). "
        "The URL is printed alone on stdout; give it to the owner over a channel you trust."
    )

    def add_arguments(self, parser):
        parser.add_argument("org", metavar="ORG", help="The organization's slug.")
        parser.add_argument("email", metavar="EMAIL", help="The owner's email address.")
        parser.add_argument("--reason", required=True, help="Why; kept in the audit trail.")
        parser.add_argument(
            "--minutes",
            type=int,
            default=DEFAULT_MINUTES,
            help=f"How long the link works (default {DEFAULT_MINUTES}).",
        )
        parser.add_argument(
            "--operator", default="", help="Who issues it (default: the server's user name)."
        )

    def handle(self, *args, **options):
        slug = options["org"]
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"There is no organization {slug!r}.")
        operator = options["operator"] or _login_name()
        try:
            link, token = break_glass_issue(
                organization=organization,
                email=options["email"],
                reason=options["reason"],
                minutes=options["minutes"],
                operator=Actor.system(f"break_glass_link command ({operator})"),
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        path = reverse("break_glass", kwargs={"token": token})
        self.stdout.write(f"{settings.ORGCONNECTORS_BASE_URL}{path}")
        self.stderr.write(
            f"For {link.user.email}, once, until {link.expires_at:%Y-%m-%d %H:%M %Z}."
        )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
