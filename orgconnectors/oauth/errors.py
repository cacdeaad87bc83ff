"""What can go wrong while acting for a member at an authorization server, said for a person.

No message here ever contains a token, a code, a verifier or a client secret.
"""

from orgconnectors.core.errors import ServiceError


class OAuthError(ServiceError):
    code = "oauth_error"


class DiscoveryFailed(OAuthError):
    """The server's authorization setup could not be found or is not acceptable."""

    code = "oauth_discovery_failed"


class ClientIdentityMissing(OAuthError):
    """No way to identify orgconnectors to the authorization server: an owner must register it."""

    code = "oauth_client_missing"


class ClientIssuerUnconfirmed(OAuthError):
    """The server now names another authorization server than the one the owner's client was
    registered with: an owner must confirm it before the client's secret goes there."""

    status = 409
    code = "oauth_issuer_unconfirmed"


class AuthorizationRefused(OAuthError):
    """The callback cannot complete: the state is unknown, expired, used or someone else's,
    or the authorization server answered with an error."""

    code = "oauth_authorization_refused"

    def __init__(self, message: str, *, what_to_do: str, title: str = "Authorization failed"):
        super().__init__(message)
        self.what_to_do = what_to_do
        self.title = title


class StepUpExhausted(OAuthError):
    """The server keeps refusing a scope after the documented number of authorizations."""

    status = 409
    code = "step_up_exhausted"


class NeedsAuthorization(OAuthError):
    """The connection holds no usable token; the member must authorize again."""

    status = 409
    code = "needs_authorization"


class TokenUnavailable(OAuthError):
    """A token could not be refreshed just now (the server is down or slow); try again later."""

    status = 503
    code = "token_unavailable"


class TokenEndpointError(OAuthError):
    """The token endpoint refused, or could not be reached.

    `error` is the OAuth error code (or "network", "server_error", "invalid_response");
    `transient` says whether trying again later may succeed.
    """

    code = "token_endpoint_error"

    def __init__(self, message: str, *, error: str, transient: bool, status: int | None = None):
        super().__init__(message)
        self.error = error
        self.transient = transient
        self.http_status = status


class KeyRotationRefused(OAuthError):
    """Another key rotation is queued or running: one at a time."""

    status = 409
    code = "key_rotation_under_way"
