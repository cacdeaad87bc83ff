"""Reads of member OAuth: a connection's credential, the public client metadata document, and
key rotation runs."""

from django.http import Http404

from orgconnectors.connectors.models import Connection
from orgconnectors.oauth.models import KeyRotation, OAuthClient, OAuthCredential


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
