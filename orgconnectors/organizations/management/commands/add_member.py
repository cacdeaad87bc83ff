from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.organizations.models import Membership, Organization
from orgconnectors.organizations.services import membership_add, user_get_or_create


class Command(BaseCommand):
    help = "Add a person to an organization, creating their account if needed (no invitation)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument(
            "--password", help="For a new account; without it the person resets their password."
        )

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"There is no organization {options['slug']!r}.")
        try:
            validate_email(options["email"])
        except ValidationError:
            raise CommandError(f"{options['email']!r} is not an email address.") from None
        try:
            # One transaction: a refused membership leaves no new account behind.
            with transaction.atomic():
                user = user_get_or_create(email=options["email"], password=options["password"])
                membership_add(
                    organization=organization,
                    user=user,
                    role=options["role"],
                    actor=Actor.system("command:add_member"),
                )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Added {user.email} to {organization.name} as {options['role']}.")
