"""Reads of member OAuth: a connection's credential, and the public client metadata document."""

from django.http import Http404

from orgconnectors.connectors.models import Connection
from orgconnectors.oauth.models import OAuthClient, OAuthCredential


def credential_for(*, connection: Connection) -> OAuthCredential | None:
    return OAuthCredential.objects.filter(connection=connection).first()


def metadata_document_client(*, pk: int) -> OAuthClient:
    """A client identified by a Client ID Metadata Document; any other id is 404."""
    client = OAuthClient.objects.filter(pk=pk, kind=OAuthClient.Kind.METADATA_DOCUMENT).first()
    if client is None:
        raise Http404("No such client")
    return client
