from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.organizations.services import organization_create, plan_get, user_get_or_create


class Command(BaseCommand):
    help = "Create an organization with its first owner, creating the owner's account if needed."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--plan", required=True, metavar="CODE")
        parser.add_argument("--owner", required=True, metavar="EMAIL")
        parser.add_argument(
            "--password", help="For a new account; without it the owner resets their password."
        )

    def handle(self, *args, **options):
        try:
            validate_email(options["owner"])
        except ValidationError:
            raise CommandError(f"{options['owner']!r} is not an email address.") from None
        try:
            # One transaction: a refused organization leaves no new account behind.
            with transaction.atomic():
                plan = plan_get(code=options["plan"])
                owner = user_get_or_create(email=options["owner"], password=options["password"])
                organization = organization_create(
                    slug=options["slug"],
                    name=options["name"],
                    plan=plan,
                    owner=owner,
                    actor=Actor.system("command:create_org"),
                )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Created {organization.name} ({organization.slug}) on the {plan.name} plan, "
            f"owned by {owner.email}."
        )
