"""An owner's pre-registered OAuth client belongs to one authorization server: its secret goes
there and nowhere else.

The issuer is pinned when an owner states it (`connector_oauth_issuer_confirm`), else at the
first discovery after the client ID was saved, before the secret is ever sent; either way owners
see it on the connector's page and in the audit trail. Pinning at first discovery trusts the
server's metadata of that moment (trust on first use), which the owner can check there and
correct. When the server later names another issuer, the secret is not sent: the member is
told an owner must confirm the new server, and the owner sees it waiting on the connector page.
"""

from django.db import transaction
from django.utils import timezone
from mcp.client.auth.utils import issuers_match

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connector
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import NotAllowed
from orgconnectors.oauth.discovery import check_browser_url
from orgconnectors.oauth.errors import ClientIssuerUnconfirmed, DiscoveryFailed, OAuthError
from orgconnectors.oauth.models import ClientIssuerPin, OAuthClient
from orgconnectors.oauth.refresh_outcomes import client_forget
from orgconnectors.organizations.models import Membership

How = ClientIssuerPin.How


def _record(connector: Connector, actor: Actor, *, action: str, changes: dict) -> None:
    audit_record(
        organization=connector.organization,
        actor=actor,
        action=action,
        target=connector,
        changes=changes,
    )


def unconfirmed_message(connector: Connector, *, pinned: str, named: str) -> str:
    return (
        f"{connector.name} now sends members to the authorization server {named}, but its "
        f"OAuth client was registered at {pinned}. orgconnectors will not send the client's "
        "secret to another server until an owner confirms the new one on the connector's page."
    )


def _pinned(
    pin: "ClientIssuerPin | None", connector: Connector, issuer: str, how
) -> "ClientIssuerPin":
    """Pin the connector's own client ID to `issuer` (saved), nothing left waiting."""
    pin = pin or ClientIssuerPin(connector=connector)
    pin.client_id = connector.oauth_client_id
    pin.issuer = issuer
    pin.pinned_how = how
    pin.pending_issuer, pin.pending_since = "", None
    pin.pinned_at = timezone.now()
    pin.save()
    return pin


def preregistered_issuer_check(*, connector: Connector, issuer: str, actor: Actor) -> None:
    """Before the connector's own client ID (and secret) is used at `issuer`: pin it there if
    nothing is pinned for this client ID yet; raise ClientIssuerUnconfirmed if another issuer
    is pinned (recording, once per new issuer, that it waits for an owner)."""
    refusal = None
    with transaction.atomic():
        pin = ClientIssuerPin.objects.select_for_update().filter(connector=connector).first()
        if pin is None or pin.client_id != connector.oauth_client_id:
            before = pin.issuer if pin else None
            pin = _pinned(pin, connector, issuer, How.FIRST_USE)
            _record(
                connector,
                actor,
                action="oauth.client_issuer_pinned",
                changes={
                    "issuer": {"before": before, "after": issuer},
                    "how": {"after": How.FIRST_USE},
                },
            )
        elif issuers_match(pin.issuer, issuer):
            if pin.pending_issuer:  # the server went back to the pinned one
                pin.pending_issuer, pin.pending_since = "", None
                pin.save(update_fields=["pending_issuer", "pending_since", "updated_at"])
        else:
            if not issuers_match(pin.pending_issuer or "", issuer):
                pin.pending_issuer, pin.pending_since = issuer, timezone.now()
                pin.save(update_fields=["pending_issuer", "pending_since", "updated_at"])
                _record(
                    connector,
                    actor,
                    action="oauth.client_issuer_changed",
                    changes={"issuer": {"before": pin.issuer, "after": issuer}, "confirmed": False},
                )
            refusal = unconfirmed_message(connector, pinned=pin.issuer, named=issuer)
    if refusal:  # raised after the commit, so the waiting issuer and its record stay
        raise ClientIssuerUnconfirmed(refusal)


def preregistered_issuer_observed(
    *, connector: Connector, authorization_servers: list, actor: Actor
) -> str:
    """For a health check that read the server's resource metadata: when it names another
    server than the pinned one, the sentence for owners (the change waits for them, recorded
    once); else "". Pins nothing: no secret is sent by a check."""
    named = next((str(item) for item in authorization_servers or [] if item), "")
    if not named or not connector.oauth_client_id:
        return ""
    with transaction.atomic():
        pin = ClientIssuerPin.objects.select_for_update().filter(connector=connector).first()
        if pin is None or pin.client_id != connector.oauth_client_id:
            return ""
        if issuers_match(pin.issuer, named):
            return ""
        if not issuers_match(pin.pending_issuer or "", named):
            pin.pending_issuer, pin.pending_since = named, timezone.now()
            pin.save(update_fields=["pending_issuer", "pending_since", "updated_at"])
            _record(
                connector,
                actor,
                action="oauth.client_issuer_changed",
                changes={"issuer": {"before": pin.issuer, "after": named}, "confirmed": False},
            )
        return unconfirmed_message(connector, pinned=pin.issuer, named=named)


def preregistered_secret_allowed(client: OAuthClient) -> bool:
    """Whether this owner-registered client may still be used at its issuer (a refresh, say):
    not once an owner moved the credentials to another authorization server."""
    if client.kind != OAuthClient.Kind.PREREGISTERED:
        return True
    pin = ClientIssuerPin.objects.filter(connector_id=client.connector_id).first()
    return pin is None or issuers_match(pin.issuer, client.issuer)


def _clean_issuer(issuer: str) -> str:
    issuer = (issuer or "").strip()
    if not issuer or len(issuer) > 500:
        raise OAuthError(
            "Give the authorization server's issuer URL (at most 500 characters), as the "
            "connector page shows it.",
            field="issuer",
        )
    try:
        return check_browser_url(issuer, what="issuer")
    except DiscoveryFailed as failure:
        raise OAuthError(failure.message, field="issuer") from None


def connector_oauth_issuer_confirm(
    *, membership: Membership, connector: Connector, issuer: str, actor: Actor
) -> ClientIssuerPin:
    """An owner states the authorization server the connector's OAuth client belongs to: to
    accept the new one the server names, or to pin it ahead of the first authorization.
    Members' authorizations through the client at any other server must be done again."""
    if not membership.is_owner:
        raise NotAllowed("Only owners can confirm a connector's authorization server.")
    if connector.organization_id != membership.organization_id:
        raise OAuthError("This connector belongs to another organization.", field="connector")
    if connector.auth != Connector.Auth.OAUTH or not connector.oauth_client_id:
        raise OAuthError(
            f"{connector.name} has no OAuth client ID of its own; there is no server to confirm.",
            field="issuer",
        )
    issuer = _clean_issuer(issuer)
    with transaction.atomic():
        pin = ClientIssuerPin.objects.select_for_update().filter(connector=connector).first()
        before = pin.issuer if pin and pin.client_id == connector.oauth_client_id else None
        pin = _pinned(pin, connector, issuer, How.OWNER)
        _record(
            connector,
            actor,
            action="oauth.client_issuer_confirmed",
            changes={"issuer": {"before": before, "after": issuer}, "how": {"after": How.OWNER}},
        )
        elsewhere = OAuthClient.objects.filter(
            connector=connector, kind=OAuthClient.Kind.PREREGISTERED
        )
        for client in elsewhere:
            if not issuers_match(client.issuer, issuer):
                client_forget(
                    client=client,
                    reason=f"{connector.name}'s owner moved its OAuth client to the "
                    f"authorization server {issuer}; authorize again.",
                    actor=actor,
                )
    return pin


def connector_issuer_pin(*, connector: Connector) -> ClientIssuerPin | None:
    """The pin of the connector's current client ID, if any (a selector for its page)."""
    pin = ClientIssuerPin.objects.filter(connector=connector).first()
    if pin is None or pin.client_id != connector.oauth_client_id:
        return None
    return pin
