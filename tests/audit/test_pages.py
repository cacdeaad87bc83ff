"""The trail's new filters, the usage page and the usage events list, as auditors see them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orgconnectors.audit.usage import usage_record
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.health.models import HealthCheck
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory


@pytest.fixture
def reader(client, auditor):
    client.force_login(auditor.user)
    return client


def usage(org, **refs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        usage_record(organization=org, **refs)


def test_the_trail_filters_by_connector_member_and_outcome(org, member, reader, write_event):
    docs = ConnectorFactory(organization=org, name="Docs")
    write_event("connector.updated", target=docs)
    write_event("oauth.refresh_failed", target=AuditTarget(type="connector", label="Other"))
    write_event("membership.role_changed", target=member)
    url = reverse("audit_list", args=["acme"])

    by_connector = reader.get(url, {"connector": docs.pk}).content.decode()
    failures = reader.get(url, {"outcome": "failure"}).content.decode()
    about_member = reader.get(url, {"member": member.user_id}).content.decode()

    def shown(action: str, page: str) -> bool:
        return f"<br><code>{action}</code></td>" in page

    assert shown("connector.updated", by_connector)
    assert not shown("oauth.refresh_failed", by_connector)
    assert shown("oauth.refresh_failed", failures) and not shown("connector.updated", failures)
    assert '<span class="badge badge--warning">Failed</span>' in failures
    assert shown("membership.role_changed", about_member)
    assert not shown("connector.updated", about_member)


def test_a_connector_of_another_organization_is_not_a_choice(reader, other_org):
    theirs = ConnectorFactory(organization=other_org)

    response = reader.get(reverse("audit_list", args=["acme"]), {"connector": theirs.pk})

    assert response.status_code == 400
    assert "There is no such connector here; choose one listed." in response.content.decode()


def test_the_trail_offers_the_actors_it_holds(reader, write_event):
    write_event(by="robot@acme.test")

    page = reader.get(reverse("audit_list", args=["acme"])).content.decode()

    assert '<datalist id="actor-names"><option value="robot@acme.test">' in page


def test_the_usage_page_draws_each_chart_with_its_numbers(org, member, reader):
    docs = ConnectorFactory(organization=org, name="Docs")
    ConnectionFactory(membership=member, connector=docs)
    HealthCheck.objects.create(
        connector=docs, organization=org, checked_at=datetime.now(UTC), outcome="healthy"
    )
    for _ in range(3):
        usage(org, kind="configuration", user=member.user, connector=docs)

    response = reader.get(reverse("usage", args=["acme"]))

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg viewBox") == 4
    # The legend's colours are SVG fills, not style attributes (the CSP refuses those).
    assert '<svg class="legend__swatch"' in page and 'style="' not in page
    assert page.count('role="img"') == 4
    assert "Usage events per connector per day: the numbers" in page
    assert "Usage events per member per day: the numbers" in page
    assert "<strong>1</strong> of 10 possible connections in use" in page
    assert "100.00%" in page
    assert "member@acme.test" in page
    # No script and no chart library: nothing is loaded from anywhere else.
    assert '<script src="http' not in page and "//cdn" not in page.lower()


def test_an_empty_usage_page_says_so(reader):
    page = reader.get(reverse("usage", args=["acme"])).content.decode()

    assert "Nothing in this period." in page
    assert "No usage in this period." in page
    assert "has no connectors yet" in page
    # An auditor adds nothing: they are told where the numbers will come from.
    assert "Usage appears here once an owner adds one and members connect it." in page
    assert reverse("connector_add", args=["acme"]) not in page


def test_an_owner_with_no_connectors_is_offered_to_add_one_on_the_usage_page(client, owner):
    client.force_login(owner.user)

    page = client.get(reverse("usage", args=["acme"])).content.decode()

    assert f'href="{reverse("connector_add", args=["acme"])}">Add connector</a>' in page


def test_a_period_not_offered_is_refused(reader):
    response = reader.get(reverse("usage", args=["acme"]), {"days": "365"})

    assert response.status_code == 400
    assert "Choose a period listed." in response.content.decode()


def test_the_usage_events_list_names_members_and_connectors(org, member, reader):
    docs = ConnectorFactory(organization=org, name="Docs")
    usage(org, kind="authorization", user=member.user, connector=docs, ip="203.0.113.9")
    usage(org, kind="health", connector=docs)

    page = reader.get(
        reverse("usage_events", args=["acme"]), {"kind": "authorization"}
    ).content.decode()

    assert "member@acme.test" in page and "Docs" in page and "203.0.113.9" in page
    assert "<td>Authorized</td>" in page and "<td>Health changed</td>" not in page
    assert "format=csv" in page and "kind=authorization" in page


@pytest.mark.parametrize("name", ["usage", "usage_events", "audit_list"])
def test_a_page_asks_as_many_queries_for_many_rows_as_for_few(name, org, reader, write_event):
    now = datetime.now(UTC)

    def add(count: int) -> None:
        for n in range(count):
            connector = ConnectorFactory(organization=org)
            person = MembershipFactory(organization=org)
            ConnectionFactory(membership=person, connector=connector)
            with time_machine.travel(now - timedelta(days=n % 5)):
                usage(org, kind="configuration", user=person.user, connector=connector)
                write_event(by=person.user.email, target=connector)

    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = reader.get(reverse(name, args=["acme"]), {"actor": "person"})
        assert response.status_code == 200
        return len(queries)

    add(2)
    few = measure()
    add(18)

    assert measure() == few


def test_names_in_the_charts_are_escaped(org, member, reader):
    tricky = ConnectorFactory(organization=org, name="<b>Docs</b>")
    usage(org, kind="configuration", user=member.user, connector=tricky)

    page = reader.get(reverse("usage", args=["acme"])).content.decode()

    assert "<b>Docs</b>" not in page
    assert "<title>" in page and "&lt;b&gt;Docs&lt;/b&gt; 1</title>" in page
