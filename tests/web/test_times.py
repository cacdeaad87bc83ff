"""Times on pages: relative ("3 hours ago"), with the exact time on hover.

templates/components/time.html renders <time datetime="…" title="exact">relative</time>. These
tests open every page each person of Acme can read (the rows of the access matrix), with data that
has timestamps on it, and read the HTML: every <time> carries both attributes, and no relative
phrase stands outside one, where nobody could find out when it was.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.audit.models import UsageEvent
from orgconnectors.audit.usage import usage_rollup
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.health.models import HealthCheck, HealthDailyRollup
from orgconnectors.health.outcomes import Outcome
from tests.factories import ConnectionFactory
from tests.responses import text
from tests.web.pages import url_for
from tests.web.test_access_matrix import GET_QUERIES, MATRIX

# What naturaltime and timesince write: "3 hours ago", "2 days from now", "an hour ago".
RELATIVE = re.compile(
    r"\b(?:\d+|an?)\s+(?:second|minute|hour|day|week|month|year)s?\s+(?:ago|from now)\b"
    r"|\b(?:yesterday|tomorrow|just now)\b",
    re.IGNORECASE,
)
# allauth's pages of a signed-in person (not in the matrix, which reads only the dashboard's).
ACCOUNT_PAGES = ("account_email", "account_change_password", "mfa_index")
# Text nobody reads as a time on the page.
UNREAD = {"script", "style", "title", "code", "pre", "textarea"}
DOWN = Outcome.UNREACHABLE


class TimeReader(HTMLParser):
    """The page's <time> elements without datetime or title, and relative phrases outside any."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.times = 0
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "time":
            self.times += 1
            values = dict(attrs)
            missing = [name for name in ("datetime", "title") if not values.get(name)]
            if missing:
                self.problems.append(f"{self.get_starttag_text()} lacks {' and '.join(missing)}")
        if tag not in {"br", "img", "input", "meta", "link", "hr", "wbr", "source"}:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data):
        if "time" in self.open or UNREAD.intersection(self.open):
            return
        for match in RELATIVE.finditer(data):
            self.problems.append(f"“{match.group(0)}” outside a <time>: “{data.strip()[:120]}”")


def read_times(html: str) -> TimeReader:
    reader = TimeReader()
    reader.feed(html)
    reader.close()
    return reader


@pytest.fixture
def timed(world, member, owner):
    """The world of the access matrix with a past of its own: checks, a connection, used and
    revoked tokens, usage, so that the pages have times to show."""
    now = timezone.now()
    acme = world.acme
    connector = acme.connector
    for hours, outcome in ((1, DOWN), (2, DOWN), (3, DOWN), (30, Outcome.HEALTHY)):
        HealthCheck.objects.create(
            connector=connector,
            organization=acme.organization,
            run=acme.run if hours == 1 else None,
            checked_at=now - timedelta(hours=hours),
            outcome=outcome,
            error="" if outcome == Outcome.HEALTHY else "connection refused",
            latency_ms=120 if outcome == Outcome.HEALTHY else None,
        )
    HealthDailyRollup.objects.create(
        connector=connector, day=(now - timedelta(days=3)).date(), checks=48, up_checks=47
    )
    Connector.objects.filter(pk=connector.pk).update(
        status=Connector.Status.DOWN,
        last_checked_at=now - timedelta(hours=1),
        down_since=now - timedelta(hours=3),
        consecutive_failures=3,
        last_error="connection refused",
    )
    for membership in (owner, member):
        ConnectionFactory(
            membership=membership,
            connector=connector,
            state=Connection.State.ENABLED,
            enabled_at=now - timedelta(days=2),
        )
    ApiToken.objects.filter(pk=acme.tokens["owner"].pk).update(
        last_used_at=now - timedelta(minutes=5), expires_at=now + timedelta(days=30)
    )
    ApiToken.objects.filter(pk=acme.tokens["member"].pk).update(revoked_at=now - timedelta(days=1))
    UsageEvent.objects.bulk_create(
        UsageEvent(
            organization=acme.organization,
            kind=kind,
            user=member.user,
            connector=connector,
            created_at=now - timedelta(days=days),
        )
        for days, kind in ((0, "configuration"), (1, "authorization"), (4, "token_refresh"))
    )
    usage_rollup(now=now)
    return world


def pages_for(role: str, objects) -> list[tuple[str, str, dict]]:
    """(name, URL, query) of every page `role` may read: the access matrix's GET rows that
    answer them 200, and their allauth pages."""
    readable = [row.route for row in MATRIX if row.method == "GET" and getattr(row, role) == 200]
    return [
        (name, url_for(name, objects, role=role), GET_QUERIES.get(name, {})) for name in readable
    ] + [(name, reverse(name), {}) for name in ACCOUNT_PAGES]


@pytest.mark.parametrize("role", ["owner", "member", "auditor"])
def test_every_time_on_a_page_shows_the_exact_time_on_hover(role, timed, client_as):
    client = client_as(role)
    problems, times = {}, 0

    for name, url, query in pages_for(role, timed.acme):
        response = client.get(url, query)
        assert response.status_code == 200, (name, response.status_code)
        if not response["Content-Type"].startswith("text/html"):
            continue  # downloads and JSON documents
        reader = read_times(text(response))
        times += reader.times
        if reader.problems:
            problems[name] = reader.problems

    assert not problems, "\n".join(f"{name}: {found}" for name, found in problems.items())
    # Each of them sees their API tokens' times at least.
    assert times >= 3, "the pages showed hardly any times: is the data still there?"


def test_each_day_of_a_connectors_health_history_shows_its_full_date_on_hover(timed, client_as):
    response = client_as("owner").get(url_for("connector_detail", timed.acme))

    problems = read_times(text(response)).problems

    assert not problems, problems


def test_a_time_without_its_exact_time_and_a_relative_phrase_on_its_own_are_found():
    reader = read_times(
        '<p>Checked <time datetime="2025-01-03T09:14:00+00:00">3 hours ago</time>, '
        'added <span>2\xa0days ago</span>, <time title="2025-01-03 09:14:00 UTC">today</time>; '
        '<time datetime="2025-01-03" title="Friday 3 January 2025">Jan 3</time>, '
        '<time datetime="2025-01-03T09:14:00+00:00" title="2025-01-03 09:14:00 UTC">'
        "an hour from now</time>.<script>var ago = '5 minutes ago';</script></p>"
    )

    assert reader.times == 4
    assert reader.problems == [
        '<time datetime="2025-01-03T09:14:00+00:00"> lacks title',
        "“2\xa0days ago” outside a <time>: “2\xa0days ago”",
        '<time title="2025-01-03 09:14:00 UTC"> lacks datetime',
    ]
