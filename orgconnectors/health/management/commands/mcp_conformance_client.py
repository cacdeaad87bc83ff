"""`manage.py mcp_conformance_client URL`: the health check of a registered connector, on any URL.

The official MCP conformance suite tests clients by starting a server on localhost and running a
command with its URL (`.ci/conformance`). This command is that client: the same probe a worker
runs (runner, pooled client, egress guard, transports, negotiation, every page of tools), with
loopback allowed for the one run, as the suite's server is on this machine.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from orgconnectors.connectors.models import Connector
from orgconnectors.health.conformance_auth import (
    HeadlessAuthorizationFailed,
    authorize_and_call,
    first_tool_needs_authorization,
)
from orgconnectors.health.outcomes import UP, Outcome
from orgconnectors.health.pool import probe_once
from orgconnectors.health.probe import ProbeTarget

_TRANSPORTS = dict(Connector.Transport.choices)


class Command(BaseCommand):
    help = (
        "Check an MCP server exactly as orgconnectors checks a registered connector (loopback "
        "allowed) and print what was found. Exits 1 when the server is unreachable or "
        "misconfigured."
    )

    def add_arguments(self, parser):
        parser.add_argument("url", help="The MCP server's URL, as a connector would have it.")
        parser.add_argument(
            "--transport",
            choices=list(_TRANSPORTS),
            default=Connector.Transport.AUTO,
            help="As the connector's setting (default: auto, Streamable HTTP then SSE).",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument(
            "--no-authorize",
            action="store_true",
            help="Report a server that asks for authorization instead of authorizing headlessly.",
        )

    def _authorize(self, url: str, transport: str) -> None:
        """A member's authorization, headlessly, in the dedicated "conformance" organization."""
        try:
            for line in authorize_and_call(url, transport):
                self.stdout.write(line)
        except HeadlessAuthorizationFailed as failure:
            raise CommandError(f"Authorization did not complete: {failure}") from None

    def handle(self, *args, url: str, transport: str, **options):
        # The egress guard still checks the URL and every address; only loopback is let through.
        with override_settings(ORGCONNECTORS_ALLOW_LOOPBACK=True):
            result = probe_once(ProbeTarget(url=url, transport=transport))
            needs = result.outcome == Outcome.AUTH_REQUIRED or (
                result.outcome != Outcome.UNREACHABLE
                and first_tool_needs_authorization(url, result.transport)
            )
            if needs and not options["no_authorize"]:
                self._authorize(url, transport)
                return
        if options["json"]:
            data = {**vars(result), "outcome": result.outcome.value}
            self.stdout.write(json.dumps(data, indent=2))
        else:
            self._print(url, result)
        if result.outcome not in UP:
            raise CommandError(f"{result.outcome.label}: {result.error}")

    def _print(self, url: str, result) -> None:
        line = self.stdout.write
        line(f"URL:              {url}")
        line(f"Outcome:          {result.outcome.label} ({result.outcome.value})")
        if result.error:
            line(f"Error:            {result.error}")
        if result.transport:
            line(f"Transport:        {_TRANSPORTS.get(result.transport, result.transport)}")
        if result.latency_ms is not None:
            line(f"Latency:          {result.latency_ms} ms")
        if result.protocol_version:
            line(f"Protocol version: {result.protocol_version}")
            line(f"Server:           {result.server_name} {result.server_version}".rstrip())
            line(f"Capabilities:     {json.dumps(result.capabilities, sort_keys=True)}")
        if result.tools is not None:
            line(f"Tools:            {len(result.tools)}")
            for tool in result.tools:
                title = f" ({tool['title']})" if tool.get("title") else ""
                line(f"  - {tool['name']}{title}")
        for note in result.notes:
            line(f"Note:             {note}")
        if result.oauth:
            metadata = result.oauth.get("resource_metadata", {})
            servers = ", ".join(metadata.get("authorization_servers", [])) or "none named"
            scopes = " ".join(metadata.get("scopes_supported", [])) or result.oauth.get("scope")
            line(f"Resource metadata: {result.oauth.get('resource_metadata_url')}")
            line(f"Authorization servers: {servers}")
            line(f"Scopes:           {scopes or 'none named'}")
