"""Every page of the dashboard, read from Django's URL resolver, and its URL for given objects."""

import re
from functools import cache

from django.urls import URLResolver, get_resolver, reverse

# admin/ and accounts/ (allauth) are not ours; api/v1/ is the JSON API, whose operations
# tests/api/operations.py reads from the ninja API itself; metrics is for Prometheus, behind a
# token of its own (tests/ops/test_metrics.py); identity/ and .well-known/ are the gateway's
# OAuth authorization server (allauth's, and its consent page), which answers OAuth clients by
# the protocol's rules (tests/gateway_auth/); scim/v2/ is each organization's SCIM endpoint, for
# its identity provider's SCIM token only (tests/scim/).
SKIPPED_PREFIXES = (
    "admin/",
    "accounts/",
    "api/v1/",
    "metrics",
    "identity/",
    ".well-known/",
    "scim/v2/",
)


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield pattern.name, route


@cache
def page_routes() -> dict[str, str]:
    """{url name: route}, e.g. {"connector_detail": "orgs/<slug:slug>/connectors/<int:...>/"}."""
    routes = {}
    for name, route in _walk(get_resolver().url_patterns):
        assert name, f"the page {route!r} has no name; name it so the matrix can list it"
        assert name not in routes, f"two pages are named {name!r}"
        routes[name] = route
    return routes


def route_params(name: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", page_routes()[name])


def url_for(name: str, objects, *, role: str = "owner", slug: str = "acme") -> str:
    """The page's URL in organization `slug`, naming `objects`' objects (tests/web/conftest.py);
    a token id is the caller's own token, as only its holder may revoke it."""
    values = {
        "slug": slug,
        "connector_id": objects.connector.pk,
        "member_id": objects.member.pk,
        "invitation_id": objects.invitation.pk,
        "event_id": objects.event.pk,
        "run_id": objects.run.pk,
        "token_id": objects.tokens.get(role, objects.tokens["owner"]).pk,
        "job_id": objects.export_jobs.get(role, objects.export_jobs["owner"]).pk,
        "token": objects.invitation_token,
        "pk": objects.oauth_client.pk,
        "issuer_key": "0123456789abcdef",
        "quota_id": objects.quota.pk,
        "approval_id": objects.approval.pk,
        "call_id": objects.tool_call_body.call_id,
        "domain_id": objects.claimed_domain.pk,
        "group_id": objects.group.pk,
    }
    return reverse(name, kwargs={param: values[param] for param in route_params(name)})
