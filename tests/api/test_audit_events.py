import pytest
import time_machine
from django.db import transaction

from orgconnectors.audit.chain import chain_seal
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from tests.api.conftest import session_client
from tests.responses import api_error

EVENTS = "/api/v1/orgs/acme/audit-events"


def record(organization, *, action, when, who="owner@acme.test", target="Wiki", target_id=""):
    with time_machine.travel(when, tick=False), transaction.atomic():
        event = audit_record(
            organization=organization,
            actor=Actor(label=who, ip="198.51.100.4", user_agent="browser/1"),
            action=action,
            target=AuditTarget(type="connector", id=target_id, label=target),
            changes={"name": {"before": None, "after": target}},
        )
    chain_seal(organization_id=organization.pk)  # what the commit would run
    event.refresh_from_db()
    return event


@pytest.fixture
def trail(org):
    """Five events over three days, oldest first."""
    return [
        record(org, action="connector.registered", when="2025-03-01 09:00Z", target="Wiki"),
        record(
            org,
            action="connection.enabled",
            when="2025-03-01 17:00Z",
            who="member@acme.test",
            target="member@acme.test · Wiki",
        ),
        record(org, action="connector.registered", when="2025-03-02 10:00Z", target="Tracker"),
        record(
            org,
            action="connector.updated",
            when="2025-03-03 08:00Z",
            target="Tracker",
            target_id="4242",
        ),
        record(
            org,
            action="connection.enabled",
            when="2025-03-03 23:59Z",
            who="member@acme.test",
            target="member@acme.test · Tracker",
        ),
    ]


@pytest.fixture
def reader(auditor):
    # The session, not a token: creating a token would itself add an event to the trail.
    return session_client(auditor)


def ids(response) -> list[int]:
    return [event["id"] for event in response.json()["events"]]


def test_it_answers_the_events_newest_first(reader, trail):
    response = reader.get(EVENTS)

    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert ids(response) == [event.pk for event in reversed(trail)]
    assert body["events"][-1] == {
        "id": trail[0].pk,
        "created_at": "2025-03-01T09:00:00Z",
        "actor": "owner@acme.test",
        "action": "connector.registered",
        "target_type": "connector",
        "target_id": "",
        "target": "Wiki",
        "outcome": "success",
        "connector_id": None,
        "member_user_id": None,
        "ip": "198.51.100.4",
        "user_agent": "browser/1",
        "changes": {"name": {"before": None, "after": "Wiki"}},
        # The first event of Acme's chain links to nothing.
        "prev_hash": "0" * 64,
        "hash": trail[0].hash,
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"actor": "MEMBER@"}, [4, 1]),
        ({"action": "connector.registered"}, [2, 0]),
        ({"action": "connector"}, []),
        ({"target": "tracker"}, [4, 3, 2]),
        ({"target": "4242"}, [3]),
        ({"date_from": "2025-03-02"}, [4, 3, 2]),
        ({"date_to": "2025-03-01"}, [1, 0]),
        ({"date_from": "2025-03-02", "date_to": "2025-03-02"}, [2]),
        ({"actor": "member", "target": "Tracker", "date_to": "2025-03-03"}, [4]),
        # The last day a date can name: no day after it to stop before.
        ({"date_to": "9999-12-31"}, [4, 3, 2, 1, 0]),
        ({"date_from": "0001-01-01"}, [4, 3, 2, 1, 0]),
    ],
)
def test_it_filters_the_events(reader, trail, query, expected):
    response = reader.get(EVENTS, query)

    assert response.status_code == 200
    assert ids(response) == [trail[i].pk for i in expected]


def test_it_pages_with_a_cursor_until_there_is_none(reader, trail):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = reader.get(EVENTS, query).json()
        pages += 1
        seen += [event["id"] for event in body["events"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == [event.pk for event in reversed(trail)]


def test_a_new_event_does_not_shift_the_next_page(reader, trail, org):
    first = reader.get(EVENTS, {"limit": 2}).json()
    record(org, action="connector.removed", when="2025-03-04 08:00Z")

    second = reader.get(EVENTS, {"limit": 2, "cursor": first["next_cursor"]})

    assert ids(second) == [trail[2].pk, trail[1].pk]


def test_the_cursor_pages_within_the_filters(reader, trail):
    first = reader.get(EVENTS, {"limit": 1, "action": "connection.enabled"}).json()

    second = reader.get(
        EVENTS, {"limit": 1, "action": "connection.enabled", "cursor": first["next_cursor"]}
    ).json()

    assert [e["id"] for e in first["events"] + second["events"]] == [trail[4].pk, trail[1].pk]
    assert second["next_cursor"] is None


def test_it_refuses_a_damaged_cursor(reader, trail):
    response = reader.get(EVENTS, {"cursor": "not-a-cursor"})

    assert response.status_code == 400
    assert api_error(response)["errors"] == {
        "cursor": ["This cursor is not one this server handed out; start again without it."]
    }


@pytest.mark.parametrize(
    "query, errors",
    [
        ({"date_from": "03/01/2025"}, {"date_from": ["Enter a date as YYYY-MM-DD."]}),
        ({"limit": "0"}, {"limit": ["Enter a number no less than 1."]}),
        ({"limit": "500"}, {"limit": ["Enter a number no greater than 200."]}),
        ({"limit": "many"}, {"limit": ["Enter a whole number."]}),
        ({"actor": "own\x00er"}, {"actor": ["Null characters are not allowed; remove them."]}),
    ],
)
def test_it_refuses_a_filter_it_cannot_read(reader, query, errors):
    response = reader.get(EVENTS, query)

    assert response.status_code == 400
    assert api_error(response)["errors"] == errors


def test_another_organizations_events_never_appear(reader, trail, other_org):
    record(other_org, action="connector.registered", when="2025-03-02 11:00Z", target="Wiki")

    assert ids(reader.get(EVENTS)) == [event.pk for event in reversed(trail)]
    assert ids(reader.get(EVENTS, {"target": "Wiki"})) == [trail[1].pk, trail[0].pk]
