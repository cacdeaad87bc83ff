"""Following redirects only within the origin a request was sent to."""

from typing import Any

from orgconnectors.egress.guard import EgressError

_DEFAULT_PORTS = {"http": 80, "https": 443}
DEFAULT_MAX_HOPS = 5


def _origin(url: Any) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _next_hop(response: Any, hops: int, max_hops: int) -> Any:
    target = response.next_request
    if target is None or _origin(target.url) != _origin(response.request.url):
        return None  # not a redirect, or one to another origin: handed back unfollowed
    if hops >= max_hops:
        raise EgressError(f"more than {max_hops} redirects")
    return target  # the transport checks it again when it is sent


def follow_redirects_safely(client: Any, request: Any, *, max_hops: int = DEFAULT_MAX_HOPS) -> Any:
    """Send `request`, following redirects only within its origin (scheme, host and port).

    A redirect elsewhere is returned as the response, unfollowed; `response.next_request`
    says where it pointed.
    """
    hops = 0
    while True:
        response = client.send(request, follow_redirects=False)
        request = _next_hop(response, hops, max_hops)
        if request is None:
            return response
        hops += 1


async def afollow_redirects_safely(
    client: Any, request: Any, *, max_hops: int = DEFAULT_MAX_HOPS
) -> Any:
    """`follow_redirects_safely` for an AsyncClient."""
    hops = 0
    while True:
        response = await client.send(request, follow_redirects=False)
        request = _next_hop(response, hops, max_hops)
        if request is None:
            return response
        hops += 1
