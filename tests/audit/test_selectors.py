from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.reports.selectors import (
    AuditFilters,
    InvalidCursor,
    audit_actions,
    audit_events_page,
    encode_cursor,
)

NOON = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
def record(org):
    """record(action, at=..., by=..., target=...) writes one event at a controlled time."""

    def write(
        action="connector.updated",
        *,
        at=NOON,
        by="owner@acme.test",
        target=AuditTarget(type="connector", id=1, label="Docs", connector_id=1),
        organization=None,
    ):
        with time_machine.travel(at, tick=False), transaction.atomic():
            return audit_record(
                organization=organization or org,
                actor=Actor.system(by),
                action=action,
                target=target,
            )

    return write


def page(org, **kwargs):
    filters = kwargs.pop("filters", AuditFilters())
    return audit_events_page(organization=org, filters=filters, **kwargs)


def every_page(org, *, limit, filters=AuditFilters()):
    seen, cursor = [], None
    while True:
        result = audit_events_page(organization=org, filters=filters, cursor=cursor, limit=limit)
        seen.extend(result.events)
        if result.next_cursor is None:
            return seen
        cursor = result.next_cursor


def test_events_come_newest_first(org, record):
    old = record(at=NOON - timedelta(hours=1))
    new = record(at=NOON)

    assert page(org).events == [new, old]


def test_it_filters_by_actor(org, record):
    alice = record(by="alice@acme.test")
    record(by="bob@acme.test")

    assert page(org, filters=AuditFilters(actor="ALICE")).events == [alice]


def test_it_filters_by_action(org, record):
    enabled = record("connection.enabled")
    record("connection.disabled")

    assert page(org, filters=AuditFilters(action="connection.enabled")).events == [enabled]


def test_it_filters_by_target_label_or_id(org, record):
    docs = record(target=AuditTarget(type="connector", id=7, label="Company docs"))
    wiki = record(target=AuditTarget(type="connector", id=8, label="Wiki"))

    assert page(org, filters=AuditFilters(target="docs")).events == [docs]
    assert page(org, filters=AuditFilters(target="8")).events == [wiki]


def test_it_filters_by_a_date_range_that_includes_both_days(org, record):
    record(at=datetime(2025, 3, 9, 23, 59, 59, tzinfo=UTC))
    first = record(at=datetime(2025, 3, 10, 0, 0, tzinfo=UTC))
    last = record(at=datetime(2025, 3, 12, 23, 59, 59, tzinfo=UTC))
    record(at=datetime(2025, 3, 13, 0, 0, tzinfo=UTC))

    found = page(org, filters=AuditFilters(date_from=date(2025, 3, 10), date_to=date(2025, 3, 12)))

    assert found.events == [last, first]


def test_filters_combine(org, record):
    alices = AuditTarget(type="connection", id=1, label="Docs")
    bobs = AuditTarget(type="connection", id=2, label="Docs")
    wanted = record("connection.enabled", by="alice@acme.test", target=alices)
    record("connection.enabled", by="bob@acme.test", target=bobs)
    record("connection.disabled", by="alice@acme.test", target=alices)

    filters = AuditFilters(actor="alice", action="connection.enabled", target="docs")

    assert page(org, filters=filters).events == [wanted]


def test_another_organizations_events_never_appear(org, other_org, record):
    mine = record()
    record(organization=other_org)

    assert page(org).events == [mine]
    assert audit_actions(organization=org) == ["connector.updated"]


def test_pages_over_events_at_the_same_instant_have_no_gaps_or_duplicates(org, record):
    # Seven events share one timestamp, so only the id can order them across pages.
    events = [record(at=NOON - timedelta(minutes=1))]
    events += [record(at=NOON) for _ in range(7)]
    events += [record(at=NOON + timedelta(minutes=1)) for _ in range(2)]
    newest_first = sorted(events, key=lambda e: (e.created_at, e.pk), reverse=True)

    for limit in (1, 2, 3, 4, 7, 10, 11):
        seen = every_page(org, limit=limit)
        assert [e.pk for e in seen] == [e.pk for e in newest_first], f"limit={limit}"


def test_the_last_page_has_no_next_cursor(org, record):
    for _ in range(3):
        record()

    assert page(org, limit=3).next_cursor is None
    assert page(org, limit=2).next_cursor is not None


def test_new_events_do_not_shift_the_pages_already_handed_out(org, record):
    for minute in range(4):
        record(at=NOON + timedelta(minutes=minute))
    first = page(org, limit=2)

    record(at=NOON + timedelta(hours=1))
    second = page(org, limit=2, cursor=first.next_cursor)

    assert [e.created_at for e in second.events] == [
        NOON + timedelta(minutes=1),
        NOON,
    ]


def test_a_cursor_is_specific_to_its_position(org, record):
    events = [record() for _ in range(3)]
    newest_first = sorted(events, key=lambda e: e.pk, reverse=True)

    after_first = page(org, cursor=encode_cursor(newest_first[0])).events

    assert after_first == newest_first[1:]


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "bm90IGpzb24",  # "not json"
        "bnVsbA",  # "null"
        "WyIyMDI1LTAzLTE0IiwgIngiXQ",  # ["2025-03-14", "x"]
        "WzEsIDJd",  # [1, 2]
        "eyJhIjogMX0",  # {"a": 1}
    ],
)
def test_an_invalid_cursor_is_refused(org, record, cursor):
    record()

    with pytest.raises(InvalidCursor, match="not one this server handed out"):
        page(org, cursor=cursor)


@pytest.mark.parametrize("size", [3, 30])
def test_a_page_of_any_size_is_one_query(org, record, size, django_assert_num_queries):
    for n in range(size):
        record(at=NOON + timedelta(seconds=n), by=f"person{n}@acme.test")

    with django_assert_num_queries(1):
        # 1. the events of the page, plus one to tell whether another page follows
        result = page(org, limit=50)
        rows = [(e.actor_label, e.action, e.target_label, e.created_at) for e in result.events]

    assert len(rows) == size
