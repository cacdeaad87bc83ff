"""Client ID Metadata Documents are fetched through the egress module.

allauth fetches a client's metadata document (its `client_id` is an https URL) with `requests`,
straight to whatever address the URL names; it offers no adapter hook for the fetch itself. So
`install()` (called when the app is ready) replaces its one fetch function,
`allauth.idp.oidc.internal.cimd.fetch_metadata`, with `fetch_metadata` below: public addresses
only (checked again when connecting), no redirects, 5 KB and 5 seconds at most. allauth's own
checks around it stay: the URL's shape, its rate limit, one fetch per URL at a time, the cache
(IDP_OIDC_CIMD_CACHE_TIMEOUT) and the document's validation.
"""

import json
import logging
from typing import Any

import httpx
from allauth.idp.oidc.internal import cimd
from django.core.exceptions import ValidationError

from orgconnectors.egress import EgressError, build_client

logger = logging.getLogger(__name__)

# The draft asks authorization servers to accept documents up to 5 KB.
MAX_DOCUMENT_BYTES = 5 * 1024
DEADLINE_SECONDS = 5.0


def fetch_metadata(client_id: str) -> Any:
    """The JSON document at `client_id`, or ValidationError saying why not (allauth then
    refuses the client, as it does for its own fetch's errors)."""
    try:
        with build_client(
            max_response_bytes=MAX_DOCUMENT_BYTES,
            deadline=DEADLINE_SECONDS,
            headers={"Accept": "application/json"},
        ) as client:
            response = client.get(client_id)
            body = response.content
    except (EgressError, httpx.HTTPError) as failed:
        logger.warning("Client ID Metadata Document fetch refused or failed: %s", failed)
        raise ValidationError(
            f"The client's metadata document could not be fetched: {failed}"
        ) from None
    if response.status_code != 200:
        raise ValidationError(
            f"The client's metadata document answered HTTP {response.status_code}."
        )
    try:
        return json.loads(body)
    except ValueError:
        raise ValidationError("The client's metadata document is not JSON.") from None


def install() -> None:
    cimd.fetch_metadata = fetch_metadata
