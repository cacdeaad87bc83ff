from django.core.management.base import BaseCommand, CommandError

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.organizations.models import Organization
from orgconnectors.organizations.plan_change import organization_change_plan
from orgconnectors.organizations.services import plan_get


class Command(BaseCommand):
    help = (
        "Move an organization to another plan. Connections over the new limit are suspended, "
        "each member keeping their most recently enabled ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("plan", metavar="CODE")
        parser.add_argument(
            "--limit",
            type=int,
            metavar="N",
            help="Enterprise only: this organization's own connection limit.",
        )

    def handle(self, *args, **options):
        organization = (
            Organization.objects.select_related("plan").filter(slug=options["slug"]).first()
        )
        if organization is None:
            raise CommandError(f"There is no organization {options['slug']!r}.")
        try:
            result = organization_change_plan(
                organization=organization,
                plan=plan_get(code=options["plan"]),
                limit_override=options["limit"],
                actor=Actor.system("operator (set_plan)"),
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"{organization.name} is now on the {result.plan.name} plan: "
            f"{result.new_limit} connection(s) per member (was {result.old_limit})."
        )
        if not result.affected:
            self.stdout.write("No connection was suspended.")
        for impact in result.affected:
            names = ", ".join(c.connector.name for c in impact.suspended)
            self.stdout.write(f"Suspended for {impact.membership.user.email}: {names}")
        if result.retention_grace_until is not None:
            self.stdout.write(
                f"Audit events are now kept {result.new_retention} days; older ones stay until "
                f"{result.retention_grace_until:%Y-%m-%d} (the former {result.old_retention} days)."
            )
