from django.core.management.base import BaseCommand, CommandError

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.organizations.models import Organization
from orgconnectors.organizations.organization_settings import organization_settings_update


class Command(BaseCommand):
    help = (
        "Set how many days an Enterprise organization keeps its audit and usage events "
        "(other plans keep their plan's number of days)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        days = parser.add_mutually_exclusive_group(required=True)
        days.add_argument("--days", type=int, metavar="N")
        days.add_argument(
            "--plan-default", action="store_true", help="Go back to the plan's retention."
        )

    def handle(self, *args, **options):
        organization = (
            Organization.objects.select_related("plan").filter(slug=options["slug"]).first()
        )
        if organization is None:
            raise CommandError(f"There is no organization {options['slug']!r}.")
        try:
            organization_settings_update(
                organization=organization,
                audit_retention_days=None if options["plan_default"] else options["days"],
                actor=Actor.system("command:set_audit_retention"),
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"{organization.name} keeps audit and usage events for "
            f"{organization.audit_retention} days."
        )
