"""A gateway endpoint in front of one MCP server, in the (scratch) database of DATABASE_URL.

Creates an organization, a member connected to a connector on `--server-url`, and an API token of
theirs with the `mcp` scope, then runs one health check of the connector, which approves its
first tool listing (trust on first use). Writes {"path", "token", "tools"} as JSON to `--out`:
the gateway serves the endpoint at {BASE_URL}{path}. Used by .ci/conformance.

    python -m tests.peers.gateway_setup --server-url http://127.0.0.1:8931/mcp --out endpoint.json

Needs migrated tables and ORGCONNECTORS_ALLOW_LOOPBACK=1 for a server on loopback.
"""

import argparse
import json
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", required=True, help="the MCP server's URL")
    parser.add_argument(
        "--transport", default="streamable_http", choices=["streamable_http", "sse"]
    )
    parser.add_argument("--out", required=True, type=Path, help="where to write the JSON")
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")
    import django

    django.setup()

    from orgconnectors.api.scopes import MCP
    from orgconnectors.api.tokens import api_token_create
    from orgconnectors.connectors.models import Connector
    from orgconnectors.core.actor import Actor
    from orgconnectors.health.models import HealthCheck
    from orgconnectors.health.services import health_check_now, health_run_batch
    from orgconnectors.organizations.models import Membership
    from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory

    actor = Actor.system("conformance")
    member = MembershipFactory(
        organization__slug="conformance-gateway",
        organization__name="Conformance gateway",
        user__email="member@conformance.test",
        role=Membership.Role.MEMBER,
    )
    connector = ConnectorFactory(
        organization=member.organization,
        name="Conformance server",
        url=options.server_url,
        transport=options.transport,
        auth=Connector.Auth.NONE,
    )
    ConnectionFactory(membership=member, connector=connector)
    _token, secret = api_token_create(
        membership=member, name="Conformance suite", actor=actor, scopes=[MCP]
    )
    run_id = health_check_now(connector=connector, actor=actor)
    health_run_batch(run_id=run_id, connector_ids=[connector.pk])
    connector.refresh_from_db()
    tools = [tool["name"] for tool in connector.approved_tools or []]
    if not tools:
        check = HealthCheck.objects.filter(connector=connector).order_by("-pk").first()
        print(
            f"The health check approved no tools of {options.server_url}: "
            + (f"{check.outcome} {check.error}" if check else "no check was recorded"),
            file=sys.stderr,
        )
        return 1
    options.out.write_text(
        json.dumps(
            {
                "path": f"/mcp/{member.organization.slug}/{connector.pk}",
                "token": secret,
                "tools": sorted(tools),
            }
        )
    )
    options.out.chmod(0o600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
