from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils import timezone

from orgconnectors.api.scopes import SCOPES
from orgconnectors.api.tokens import DEFAULT_LIFETIME_DAYS, MAX_LIFETIME_DAYS, api_token_create
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.organizations.models import Organization
from orgconnectors.organizations.selectors import membership_for


class Command(BaseCommand):
    help = (
        "Create a personal API token for a member of an organization. The token is printed once, "
        "alone on stdout, so it can be captured: TOKEN=$(manage.py create_api_token ...)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, metavar="EMAIL")
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--name", default="Command line", help="Which app will use it.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=SCOPES,
            help="What the token may do; repeat for several (default: all the role allows).",
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            metavar="N",
            help=f"Expire after N days (default {DEFAULT_LIFETIME_DAYS}, at most "
            f"{MAX_LIFETIME_DAYS}).",
        )

    def handle(self, *args, **options):
        email, slug = options["user"], options["org"]
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"There is no account for {email}.")
        if not Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"There is no organization {slug!r}.")
        try:
            membership = membership_for(user=user, slug=slug)
        except Http404:
            raise CommandError(
                f"{user.email} is not a member of {slug!r}; add them first with add_member."
            ) from None
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        try:
            api_token, token = api_token_create(
                membership=membership,
                name=options["name"],
                actor=Actor.system("command:create_api_token"),
                scopes=options["scopes"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stderr.write(
            f"Created token {api_token.name!r} ({api_token.prefix}…, scopes "
            f"{' '.join(api_token.scopes)}, expires {api_token.expires_at:%Y-%m-%d}) for "
            f"{user.email} in {slug}. It is shown only now:"
        )
        self.stdout.write(token)
