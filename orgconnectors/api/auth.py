"""Who may call the API: a personal API token (Bearer) or the dashboard's signed-in session."""

from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import api_token_authenticate

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class TokenRejected(AuthenticationError):
    def __init__(self) -> None:
        super().__init__(
            message="This API token is not valid: it is unknown, revoked or expired. "
            "Create a new one on the organization's API tokens page."
        )


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer oc_...`; request.auth is the ApiToken, scoped to one organization."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        api_token = api_token_authenticate(token)
        if api_token is None:
            # A bad token must not fall through to the session: the caller meant the token.
            raise TokenRejected()
        return api_token


class SessionCsrfAuth(SessionAuth):
    """The dashboard's session; request.auth is the user. Unsafe methods need the CSRF token."""

    def __init__(self) -> None:
        # CSRF is checked in authenticate, once we know there is a session at all, so an
        # anonymous caller learns to sign in (401) rather than about CSRF (403).
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = request.user
        if not user.is_authenticated:
            return None
        if request.method not in _SAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(
                403,
                "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header, "
                "or use an API token instead of the session.",
            )
        return user


api_auth = [ApiTokenAuth(), SessionCsrfAuth()]
