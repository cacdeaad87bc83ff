"""Each API token (or signed-in person) may ask for the configuration so often; then a 429 that
says when to come back, in the body and in Retry-After."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from orgconnectors.messages_api.ratelimit import InvalidRate, Rate, parse_rate
from tests.api.conftest import session_client, token_client
from tests.messages_api.helpers import CONFIG

pytestmark = pytest.mark.django_db

URL = CONFIG.format(org="acme")
# 20 s into a minute: the window ends in 40 s. Tomorrow, so the tokens made today still work.
MOMENT = (datetime.now(UTC) + timedelta(days=1)).replace(second=20, microsecond=0)


@pytest.fixture(params=["redis", "cache"])
def backend(request, settings):
    """Both counters: Redis when REDIS_URL is set, otherwise Django's cache."""
    settings.ORGCONNECTORS_CONFIG_RATE_LIMIT = "2/min"
    if request.param == "cache":
        settings.REDIS_URL = None
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        cache.clear()
    elif not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    return request.param


def test_the_request_past_the_limit_is_a_429_with_retry_after(member, actor, backend):
    api = token_client(member, actor=actor)

    with time_machine.travel(MOMENT, tick=False):
        statuses = [api.get(URL).status_code for _ in range(2)]
        refused = api.get(URL)

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    detail = "Too many requests for the configuration: at most 2 per period. Try again in 40 s."
    assert refused.json() == {
        "code": "rate_limited",
        "detail": detail,
        "errors": {"__all__": [detail]},
        "retry_after": 40,
    }


def test_the_next_window_starts_afresh(member, actor, backend):
    api = token_client(member, actor=actor)
    with time_machine.travel(MOMENT, tick=False):
        for _ in range(3):
            api.get(URL)

    with time_machine.travel(MOMENT.replace(second=0) + timedelta(minutes=1), tick=False):
        assert api.get(URL).status_code == 200


def test_each_token_has_its_own_count(member, actor, backend):
    first, second = token_client(member, actor=actor), token_client(member, actor=actor)

    with time_machine.travel(MOMENT, tick=False):
        for _ in range(2):
            first.get(URL)
        assert first.get(URL).status_code == 429
        assert second.get(URL).status_code == 200


def test_the_session_is_counted_per_person(member, owner, backend):
    with time_machine.travel(MOMENT, tick=False):
        for _ in range(2):
            session_client(member).get(URL)
        assert session_client(member).get(URL).status_code == 429
        assert session_client(owner).get(URL).status_code == 200


@pytest.mark.parametrize(
    "text, rate",
    [("60/min", Rate(60, 60)), ("10/s", Rate(10, 1)), ("1000/hour", Rate(1000, 3600)),
     ("100/5m", Rate(100, 300)), (" 5 / minute ", Rate(5, 60))],
)  # fmt: skip
def test_rates_are_written_as_requests_per_period(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "60", "0/min", "ten/min", "60/fortnight", "-1/s"])
def test_a_malformed_rate_says_how_to_write_one(text):
    with pytest.raises(InvalidRate, match="like 60/min"):
        parse_rate(text)
