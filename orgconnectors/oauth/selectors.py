"""Reads of member OAuth: a connection's credential, the public client metadata document, and
key rotation runs."""

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.oauth.clients import pin_redirect_uri
from orgconnectors.oauth.issuer_pins import connector_issuer_pin
from orgconnectors.oauth.models import KeyRotation, OAuthClient, OAuthCredential


@dataclass(frozen=True)
class OAuthPinView:
    """Where the connector's own OAuth client is sent, for its page and the API."""

    issuer: str  # empty until pinned
    pinned_how: str
    pinned_at: datetime | None
    pending_issuer: str
    pending_since: datetime | None
    redirect_uri: str  # to register at the pinned server; empty until pinned


def oauth_pin_view(*, connector: Connector) -> OAuthPinView | None:
    """None when the connector has no OAuth client ID of its own."""
    if connector.auth != Connector.Auth.OAUTH or not connector.oauth_client_id:
        return None
    pin = connector_issuer_pin(connector=connector)
    if pin is None:
        return OAuthPinView("", "", None, "", None, "")
    return OAuthPinView(
        issuer=pin.issuer,
        pinned_how=pin.get_pinned_how_display(),
        pinned_at=pin.pinned_at,
        pending_issuer=pin.pending_issuer,
        pending_since=pin.pending_since,
        redirect_uri=pin_redirect_uri(pin),
    )


def credential_for(*, connection: Connection) -> OAuthCredential | None:
    return OAuthCredential.objects.filter(connection=connection).first()


def metadata_document_client(*, pk: int) -> OAuthClient:
    """A client identified by a Client ID Metadata Document; any other id is 404."""
    client = OAuthClient.objects.filter(pk=pk, kind=OAuthClient.Kind.METADATA_DOCUMENT).first()
    if client is None:
        raise Http404("No such client")
    return client


def key_rotation_get(*, rotation_id) -> KeyRotation:
    """One key rotation run, in one query; an unknown or malformed id is 404."""
    try:
        return KeyRotation.objects.get(pk=int(rotation_id))
    except (KeyRotation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such key rotation") from None


def key_rotation_active() -> KeyRotation | None:
    """The run queued or running, if any (there is at most one)."""
    return KeyRotation.objects.filter(status__in=KeyRotation.ACTIVE).first()
