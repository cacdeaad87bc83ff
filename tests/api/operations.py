"""Every operation of the JSON API, read from the ninja API itself, and its path for objects."""

import re

from orgconnectors.api.urls import api

# The OpenAPI document, its viewer and ninja's root page describe the API; they are not of it.
DOCUMENTATION_ROUTES = {"openapi-json", "openapi-view", "api-root"}


def schema_operations() -> set[tuple[str, str]]:
    """{(method, path)}, e.g. ("GET", "/api/v1/orgs/{org}/connectors")."""
    paths = api.get_openapi_schema()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def routed_paths() -> set[str]:
    """Every path the API answers, from its URL patterns: an operation left out of the schema
    would still be routed, and must still have its row."""
    patterns, _app, _namespace = api.urls
    return {
        "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        for pattern in patterns
        if pattern.name not in DOCUMENTATION_ROUTES
    }


def path_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def path_for(path: str, objects, *, org: str = "acme") -> str:
    """The path in organization `org`, naming `objects`' objects (tests/api/conftest.py)."""
    values = {
        "org": org,
        "connector_id": objects.connector.pk,
        "member_id": objects.member.pk,
        "run_id": objects.run.pk,
        "token_id": objects.api_token.pk,
        "job_id": objects.export_job.pk,
        "call_id": objects.tool_call_body.call_id,
        "quota_id": objects.quota.pk,
        "domain_id": objects.claimed_domain.pk,
        "group_id": objects.group.pk,
    }
    return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), path)
