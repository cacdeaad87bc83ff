"""Who may call the operator API: an operator token, and nothing else."""

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from orgconnectors.organizations.operator_tokens import operator_token_authenticate


class OperatorTokenRequired(AuthenticationError):
    def __init__(self) -> None:
        super().__init__(
            message="The operator API takes an operator token "
            "(`Authorization: Bearer ocop_...`, created with `manage.py create_operator_token`); "
            "organization API tokens and dashboard sessions are not accepted here."
        )


class OperatorTokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        # Every way in that is not a live operator token is refused with the same sentence,
        # including no header at all.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        operator_token = (
            operator_token_authenticate(token.strip()) if scheme.lower() == "bearer" else None
        )
        if operator_token is None:
            raise OperatorTokenRequired()
        return operator_token

    def authenticate(self, request: HttpRequest, token: str):
        # Not reached (__call__ above decides); HttpBearer requires it.
        return operator_token_authenticate(token)
