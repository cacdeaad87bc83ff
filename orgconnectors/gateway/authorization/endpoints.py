"""The gateway's endpoint URLs: `{ORGCONNECTORS_BASE_URL}/mcp/{organization slug}/{connector id}`.

An endpoint URL is the OAuth resource (RFC 8707) its tokens are bound to; its protected resource
metadata (RFC 9728) lives at `/.well-known/oauth-protected-resource/mcp/{org}/{connector}`.
"""

import re
from dataclasses import dataclass

from django.conf import settings

from orgconnectors.connectors.models import Connector

PATH_PREFIX = "/mcp/"
METADATA_PREFIX = "/.well-known/oauth-protected-resource"
_PATH = re.compile(r"^/mcp/(?P<org>[-a-zA-Z0-9_]{1,64})/(?P<connector>[0-9]{1,18})$")


@dataclass(frozen=True)
class Endpoint:
    organization_slug: str
    connector_id: int

    @property
    def path(self) -> str:
        return f"{PATH_PREFIX}{self.organization_slug}/{self.connector_id}"

    @property
    def url(self) -> str:
        return base_url() + self.path

    @property
    def metadata_url(self) -> str:
        return base_url() + METADATA_PREFIX + self.path


def base_url() -> str:
    return settings.ORGCONNECTORS_BASE_URL.rstrip("/")


def issuer() -> str:
    """The authorization server's issuer identifier: the dashboard's public URL."""
    return base_url()


def endpoint_of(connector: Connector) -> Endpoint:
    return Endpoint(connector.organization.slug, connector.pk)


def endpoint_for_path(path: str) -> Endpoint | None:
    """The endpoint a request path names (`/mcp/acme/12`), or None."""
    found = _PATH.match(path)
    if found is None:
        return None
    return Endpoint(found["org"], int(found["connector"]))


def endpoint_for_resource(resource: str) -> Endpoint | None:
    """The endpoint a resource URL names, or None when it is not one of this gateway's: the URL
    must start with ORGCONNECTORS_BASE_URL and carry no query, fragment or trailing slash."""
    prefix = base_url()
    if not isinstance(resource, str) or not resource.startswith(prefix + PATH_PREFIX):
        return None
    return endpoint_for_path(resource[len(prefix) :])


def connector_for(endpoint: Endpoint) -> Connector | None:
    """The connector an endpoint names, in the organization it names (a connector of another
    organization is None, like an absent one)."""
    return (
        Connector.objects.select_related("organization")
        .filter(pk=endpoint.connector_id, organization__slug=endpoint.organization_slug)
        .first()
    )
