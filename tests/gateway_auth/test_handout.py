"""Through the gateway: the organization's setting (audited), `messages-api-config` handing out
the gateway's endpoints with short-lived gateway tokens instead of the servers' own, and the
owners' "Add to Claude" page."""

import json

import pytest
from django.test import Client

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.gateway.authorization.access_tokens import member_for_access_token
from orgconnectors.messages_api.selectors import claude_code_commands
from orgconnectors.messages_api.services import messages_api_config, messages_api_config_preview
from orgconnectors.organizations.models import Organization
from orgconnectors.organizations.organization_settings import organization_settings_update
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.messages_api.helpers import stored_credential

pytestmark = pytest.mark.django_db

GATEWAY = Organization.MemberAppsReach.GATEWAY


@pytest.fixture
def tracker(member):
    connector = ConnectorFactory(
        organization=member.organization,
        name="Tracker",
        url="https://tracker.example.com/mcp",
        auth=Connector.Auth.OAUTH,
        status=Connector.Status.HEALTHY,
    )
    connection = ConnectionFactory(membership=member, connector=connector)
    stored_credential(connection, token="the-upstream-token")
    return connector


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_an_owner_turns_the_gateway_on_and_the_trail_says_so(owner, org):
    answer = signed_in(owner).post(
        f"/orgs/{org.slug}/plan/member-apps-reach/", {"member_apps_reach": "gateway"}
    )

    assert answer.status_code == 302
    org.refresh_from_db()
    assert org.member_apps_reach == GATEWAY
    event = AuditEvent.objects.get(action="organization.member_apps_reach_changed")
    assert event.changes == {"member_apps_reach": {"before": "direct", "after": "gateway"}}


def test_an_unknown_choice_is_refused_with_a_sentence(owner, org):
    answer = signed_in(owner).post(
        f"/orgs/{org.slug}/plan/member-apps-reach/",
        {"member_apps_reach": "sideways"},
        follow=True,
    )

    assert "Choose how members" in answer.content.decode()
    org.refresh_from_db()
    assert org.member_apps_reach == Organization.MemberAppsReach.DIRECT


def test_directly_the_configuration_is_as_before(member, tracker, actor):
    config = messages_api_config(membership=member, actor=actor(member))

    assert config["mcp_servers"][0]["url"] == tracker.url
    assert config["mcp_servers"][0]["authorization_token"] == "the-upstream-token"


def test_through_the_gateway_the_upstream_token_never_leaves(member, tracker, actor, settings):
    settings.ORGCONNECTORS_BASE_URL = "https://oc.example.com"
    organization_settings_update(
        organization=member.organization, member_apps_reach=GATEWAY, actor=actor(member)
    )

    config = messages_api_config(membership=member, actor=actor(member))

    server = config["mcp_servers"][0]
    endpoint = f"https://oc.example.com/mcp/acme/{tracker.pk}"
    assert server["url"] == endpoint
    assert server["name"] == "tracker"
    assert "the-upstream-token" not in json.dumps(config, default=str)
    assert member_for_access_token(token=server["authorization_token"], resource=endpoint) == member
    assert config["expires_at"] is not None
    assert config["tools"] == [{"type": "mcp_toolset", "mcp_server_name": "tracker"}]


def test_a_server_without_https_is_reached_through_the_gateway_not_left_out(
    member, actor, settings
):
    """The Messages API reaches the gateway (https); the gateway reaches the server."""
    settings.ORGCONNECTORS_BASE_URL = "https://oc.example.com"
    intranet = ConnectorFactory(
        organization=member.organization,
        name="Intranet",
        url="http://intranet.example.com/mcp",
        status=Connector.Status.HEALTHY,
    )
    ConnectionFactory(membership=member, connector=intranet)
    direct = messages_api_config(membership=member, actor=actor(member))
    organization_settings_update(
        organization=member.organization, member_apps_reach=GATEWAY, actor=actor(member)
    )

    through = messages_api_config(membership=member, actor=actor(member))

    assert [w["code"] for w in direct["warnings"] if w["connector_id"] == intranet.pk] == [
        "not_https"
    ]
    assert [s["url"] for s in through["mcp_servers"]] == [
        f"https://oc.example.com/mcp/acme/{intranet.pk}"
    ]


def test_the_preview_through_the_gateway_masks_the_token_and_mints_none(
    member, tracker, actor, settings
):
    settings.ORGCONNECTORS_BASE_URL = "https://oc.example.com"
    organization_settings_update(
        organization=member.organization, member_apps_reach=GATEWAY, actor=actor(member)
    )

    config = messages_api_config_preview(membership=member)

    assert config["mcp_servers"][0]["url"].startswith("https://oc.example.com/mcp/acme/")
    assert config["mcp_servers"][0]["authorization_token"].startswith("•")


def test_add_to_claude_lists_each_gateway_url_with_its_claude_code_line(owner, tracker, settings):
    settings.ORGCONNECTORS_BASE_URL = "https://oc.example.com"

    page = signed_in(owner).get("/orgs/acme/add-to-claude/").content.decode()

    url = f"https://oc.example.com/mcp/acme/{tracker.pk}"
    assert url in page
    assert f"claude mcp add --transport http tracker {url}" in page
    assert "Custom" in page and "Web" in page
    assert "not over https" not in page


def test_add_to_claude_warns_when_orgconnectors_is_not_served_over_https(owner, settings):
    settings.ORGCONNECTORS_BASE_URL = "http://127.0.0.1:8000"

    page = signed_in(owner).get("/orgs/acme/add-to-claude/").content.decode()

    assert "not over https" in page
    assert "ORGCONNECTORS_BASE_URL" in page


def test_through_the_gateway_the_claude_code_lines_name_the_gateway(
    member, tracker, actor, settings
):
    settings.ORGCONNECTORS_BASE_URL = "https://oc.example.com"
    organization_settings_update(
        organization=member.organization, member_apps_reach=GATEWAY, actor=actor(member)
    )

    [line] = claude_code_commands(membership=member)

    assert line.command == (
        f"claude mcp add --transport http tracker https://oc.example.com/mcp/acme/{tracker.pk}"
    )
