from django.core.management.base import BaseCommand, CommandError

from orgconnectors.core.errors import ServiceError
from orgconnectors.organizations.operator_tokens import operator_token_create


class Command(BaseCommand):
    help = (
        "Create a token for the operator API (plans and limits of every organization). "
        "The token is shown once; only its hash is kept. Revoke it in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who or what holds the token, e.g. 'billing system'.")

    def handle(self, *args, **options):
        try:
            operator_token, token = operator_token_create(name=options["name"])
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stderr.write(
            f"Operator token {operator_token.name!r} created. It is shown once; store it now. "
            "Send it as 'Authorization: Bearer <token>' to /api/v1/operator/."
        )
        self.stdout.write(token)
