"""A member's authorization of an OAuth connector: start it, complete it, ask for more scopes.

The web pages and the JSON API call these; network work (discovery, registration, the token
request) happens with no transaction open, and each change is saved with its audit event.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.models import UsageEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record
from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import NotAllowed
from orgconnectors.oauth.clients import oauth_client_ensure, scope_union
from orgconnectors.oauth.discovery import discover
from orgconnectors.oauth.errors import AuthorizationRefused, OAuthError, StepUpExhausted
from orgconnectors.oauth.flow import (
    MixUp,
    authorization_begin,
    authorization_take,
    code_exchange,
    mix_up_of,
)
from orgconnectors.oauth.models import OAuthClient, OAuthCredential, PendingAuthorization
from orgconnectors.oauth.refresh_outcomes import client_forget, locked_connection
from orgconnectors.oauth.token_endpoint import TokenEndpointError
from orgconnectors.oauth.vault import credential_store
from orgconnectors.organizations.models import Membership

State = Connection.State
Purpose = PendingAuthorization.Purpose

# Step-up: how many authorizations may ask for the same set of scopes. After the second, a
# server that still answers insufficient_scope will not grant it; asking again would loop.
MAX_STEP_UP_ATTEMPTS = 2

_DECLINED = {
    "access_denied": "The authorization was declined at the server.",
    "invalid_scope": "The server refused the scopes orgconnectors asked for.",
    "temporarily_unavailable": "The authorization server is temporarily unavailable.",
    "server_error": "The authorization server had an error.",
}


def _oauth_connection(membership: Membership, connector: Connector) -> Connection:
    if connector.organization_id != membership.organization_id:
        raise OAuthError("This connector belongs to another organization.", field="connector")
    if not membership.can_connect:
        raise NotAllowed("Auditors review connectors; they cannot connect or authorize them.")
    if connector.auth != Connector.Auth.OAUTH:
        raise OAuthError(f"{connector.name} does not use OAuth; it needs no authorization.")
    connection = Connection.objects.filter(membership=membership, connector=connector).first()
    if connection is None or not connection.in_use:
        raise OAuthError(f"Connect {connector.name} first, then authorize it.")
    return connection


def _note_reason(connection: Connection, reason: str) -> None:
    """Show why authorizing cannot proceed on the member's connection (not a state change)."""
    Connection.objects.filter(pk=connection.pk, state=State.NEEDS_AUTHORIZATION).update(
        state_reason=reason[:300], updated_at=timezone.now()
    )


def oauth_authorization_start(
    *,
    membership: Membership,
    connector: Connector,
    session_key: str | None,
    actor: Actor,
    add_scope: str = "",
    purpose: str = Purpose.CONNECT,
) -> str:
    """The URL of the authorization server to send the member to.

    `session_key` binds the request to the browser session that started it; an API caller
    with a personal token has none, and the request is then bound to the user and connector
    only (the callback still requires that user to be signed in).
    """
    connection = _oauth_connection(membership, connector)
    try:
        discovery = discover(connector.url)
        # Authorizing again never drops what was granted before (a step-up, say).
        granted = (
            OAuthCredential.objects.filter(connection=connection)
            .values_list("scope", flat=True)
            .first()
        )
        scope = scope_union(discovery.scope, granted or "", add_scope)
        client = oauth_client_ensure(
            connector=connector, discovery=discovery, scope=scope, actor=actor
        )
    except OAuthError as failure:
        _note_reason(connection, failure.message)
        raise
    return authorization_begin(
        membership=membership,
        connector=connector,
        client=client,
        resource=discovery.resource,
        scope=scope,
        session_key=session_key,
        purpose=purpose,
        iss_required=discovery.server.iss_parameter_supported,
    )


@dataclass(frozen=True)
class Enabled:
    connection: Connection
    authorize_url: str | None = None
    reason: str = ""  # why there is no authorize_url when one was needed


def oauth_connection_enable(
    *, membership: Membership, connector: Connector, session_key: str | None, actor: Actor
) -> Enabled:
    """Connect (within the plan's limit) and, for an OAuth connector, start its authorization.

    The connection is in use from the first step, so a failure to start the authorization
    is answered with the reason rather than as an error."""
    connection = connection_enable(membership=membership, connector=connector, actor=actor)
    if connection.state != State.NEEDS_AUTHORIZATION:
        return Enabled(connection)
    try:
        url = oauth_authorization_start(
            membership=membership, connector=connector, session_key=session_key, actor=actor
        )
    except OAuthError as failure:
        return Enabled(connection, reason=failure.message)
    return Enabled(connection, authorize_url=url)


def _code_refused(pending: PendingAuthorization, failure: TokenEndpointError, actor: Actor):
    client = pending.client
    what_to_do = "Go back to My connectors and choose Authorize to try again."
    if failure.error == "invalid_client" and client.kind == OAuthClient.Kind.DYNAMIC:
        with transaction.atomic():
            reason = "The server no longer knows orgconnectors' registration; authorize again."
            client_forget(client=client, reason=reason, actor=actor)
        what_to_do = "Choose Authorize again: orgconnectors will register with the server anew."
    elif failure.error == "invalid_client":
        what_to_do = (
            "Ask an owner to check the connector's OAuth client ID and secret, then authorize "
            "again."
        )
    return AuthorizationRefused(
        f"The server did not exchange the authorization for a token. {failure.message}",
        what_to_do=what_to_do,
    )


def _in_use(pending: PendingAuthorization) -> bool:
    connection = Connection.objects.filter(
        membership=pending.membership, connector=pending.connector
    ).first()
    return connection is not None and connection.in_use


def _disconnected(connector: Connector) -> AuthorizationRefused:
    return AuthorizationRefused(
        f"{connector.name} was disconnected while you were authorizing it.",
        what_to_do="Connect it again on My connectors if you still want it.",
    )


def _mix_up_record(pending: PendingAuthorization, mix_up: MixUp, *, iss, actor: Actor) -> None:
    connection = (
        Connection.objects.select_related("membership__user", "connector")
        .filter(membership=pending.membership, connector=pending.connector)
        .first()
    )
    with transaction.atomic():
        audit_record(
            organization=pending.membership.organization,
            actor=actor,
            action="oauth.authorization_refused",
            target=connection or pending.connector,
            changes={
                "reason": {"before": None, "after": mix_up.reason},
                "issuer": {"before": None, "after": pending.issuer or pending.client.issuer},
                "iss": {"before": None, "after": None if iss is None else iss[:200]},
            },
        )


def oauth_callback_complete(
    *,
    state: str,
    code: str,
    error: str,
    user,
    session_key: str | None,
    actor: Actor,
    callback_key: str,
    iss: str | None = None,
) -> Connection:
    """Finish the authorization the server sent the member back from; the connection is then
    enabled with its tokens in the vault. Raises AuthorizationRefused, saying what to do.

    `callback_key` names the redirect URI the browser came back to ("" for the shared one),
    `iss` is the answer's RFC 9207 parameter (None when absent): an answer that is not from
    the server the authorization was sent to is refused before its code goes anywhere."""
    taken = authorization_take(state=state, user=user, session_key=session_key)
    pending = taken.pending
    connector = pending.connector
    mix_up = mix_up_of(pending, callback_key=callback_key, iss=iss)
    if mix_up is not None:
        _mix_up_record(pending, mix_up, iss=iss, actor=actor)
        raise AuthorizationRefused(
            mix_up.message,
            what_to_do="Choose Authorize again on My connectors. If it happens again, tell an "
            "owner: a server may be trying to pass off another server's answer.",
            title="Authorization refused",
        )
    if error:
        raise AuthorizationRefused(
            _DECLINED.get(error, f"The server answered {error[:64]!r}."),
            what_to_do=f"Choose Authorize on My connectors to try {connector.name} again.",
            title="Not authorized",
        )
    if not code:
        raise AuthorizationRefused(
            "The server sent you back without an authorization code.",
            what_to_do="Choose Authorize on My connectors to try again.",
        )
    if not _in_use(pending):  # checked again under the lock, once the tokens are in hand
        raise _disconnected(connector)
    try:
        tokens = code_exchange(taken=taken, code=code)
    except TokenEndpointError as failure:
        raise _code_refused(pending, failure, actor) from None
    received_at = timezone.now()
    with transaction.atomic():
        connection_id = (
            Connection.objects.filter(membership=pending.membership, connector=connector)
            .values_list("pk", flat=True)
            .first()
        )
        connection = locked_connection(connection_id) if connection_id else None
        if connection is None or not connection.in_use:
            raise _disconnected(connector)
        credential = credential_store(
            connection=connection,
            client=pending.client,
            tokens=tokens,
            received_at=received_at,
            requested_scope=pending.scope,
        )
        before = connection.state
        connection.state = State.ENABLED
        connection.state_reason = ""
        connection.save(update_fields=["state", "state_reason", "updated_at"])
        audit_record(
            organization=connection.membership.organization,
            actor=actor,
            action="oauth.authorized",
            target=connection,
            changes={
                "state": {"before": before, "after": connection.state},
                "scope": {"before": None, "after": credential.scope},
                "purpose": {"before": None, "after": pending.purpose},
            },
        )
        usage_record(
            organization=connection.membership.organization,
            kind=UsageEvent.Kind.AUTHORIZATION,
            user=connection.membership.user_id,
            connector=connector,
            ip=actor.ip,
            details={"purpose": pending.purpose, "scope": credential.scope},
        )
    return connection


def _step_up_reason(scope: str) -> str:
    return (
        f"The server still refuses the scope “{scope}” after {MAX_STEP_UP_ATTEMPTS} "
        "authorizations that asked for it, so orgconnectors stopped asking. Ask an owner to "
        "check which scopes the server grants."
    )


def connection_step_up(
    *,
    membership: Membership,
    connector: Connector,
    scope: str,
    actor: Actor,
    session_key: str | None = None,
) -> str:
    """Ask the member to authorize again with the granted scopes plus `scope` (from a 403
    insufficient_scope); refused after MAX_STEP_UP_ATTEMPTS for the same scopes."""
    scope = " ".join((scope or "").split())
    if not scope:
        raise OAuthError("Give the scope the server asked for, as it wrote it.", field="scope")
    connection = _oauth_connection(membership, connector)
    exhausted = False
    with transaction.atomic():
        connection = locked_connection(connection.pk)
        credential = (
            OAuthCredential.objects.select_for_update().filter(connection=connection).first()
        )
        if credential is not None:
            key = " ".join(sorted(scope_union(credential.scope, scope).split()))
            attempts = credential.step_up_attempts if credential.step_up_scope == key else 0
            exhausted = attempts >= MAX_STEP_UP_ATTEMPTS
            if exhausted:
                connection.state_reason = _step_up_reason(scope)[:300]
                connection.save(update_fields=["state_reason", "updated_at"])
            else:
                credential.step_up_scope = key
                credential.step_up_attempts = attempts + 1
                credential.save(update_fields=["step_up_scope", "step_up_attempts", "updated_at"])
            audit_record(
                organization=connection.membership.organization,
                actor=actor,
                action="oauth.step_up_refused" if exhausted else "oauth.step_up_requested",
                target=connection,
                changes={"scope": {"before": credential.scope, "after": key}},
            )
    if exhausted:
        raise StepUpExhausted(_step_up_reason(scope), field="scope")
    return oauth_authorization_start(
        membership=membership,
        connector=connector,
        session_key=session_key,
        actor=actor,
        add_scope=scope,
        purpose=Purpose.STEP_UP,
    )
