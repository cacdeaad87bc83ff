"""Each API token (or signed-in person) may ask for the configuration so often over a moving
window; then a 429 that says when to come back, in the body and in Retry-After.

The `limits` library stamps each request with Python's clock (time.time(), also when it counts
in Redis: the timestamps go to its Lua scripts as arguments), so time_machine moves the window
for the real Redis too; Redis' own clock only expires keys that are idle anyway.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from orgconnectors.messages_api.ratelimit import InvalidRate, Rate, forget_rate_counts, parse_rate
from tests.api.conftest import session_client, token_client
from tests.messages_api.helpers import CONFIG

pytestmark = pytest.mark.django_db

URL = CONFIG.format(org="acme")
# Tomorrow, so the tokens made today still work; 20 s into a minute.
MOMENT = (datetime.now(UTC) + timedelta(days=1)).replace(second=20, microsecond=0)


def at(seconds: float):
    """The clock frozen `seconds` after MOMENT."""
    return time_machine.travel(MOMENT + timedelta(seconds=seconds), tick=False)


@pytest.fixture(params=["redis", "memory"])
def backend(request, settings):
    """Both storages: Redis when REDIS_URL is set, otherwise this process's memory."""
    settings.ORGCONNECTORS_CONFIG_RATE_LIMIT = "2/min"
    if request.param == "memory":
        settings.REDIS_URL = None
    elif not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    forget_rate_counts()
    return request.param


def test_the_request_past_the_limit_is_a_429_with_retry_after(member, actor, backend):
    api = token_client(member, actor=actor)

    with at(0):
        first = api.get(URL).status_code
    with at(20):
        second = api.get(URL).status_code
    with at(30):
        refused = api.get(URL)

    assert [first, second] == [200, 200]
    assert refused.status_code == 429
    # The first request leaves the window 60 s after it was made: in 30 s.
    assert refused["Retry-After"] == "30"
    detail = "Too many requests for the configuration: at most 2 per period. Try again in 30 s."
    assert refused.json() == {
        "code": "rate_limited",
        "detail": detail,
        "errors": {"__all__": [detail]},
        "retry_after": 30,
    }


def test_the_window_moves_one_request_at_a_time(member, actor, backend):
    api = token_client(member, actor=actor)
    with at(0):
        api.get(URL)
    with at(20):
        api.get(URL)

    with at(61):  # the first has left the window, the second has not
        again = api.get(URL).status_code
        refused = api.get(URL)

    assert again == 200
    assert refused.status_code == 429
    assert refused["Retry-After"] == "19"


def test_a_window_edge_does_not_double_the_rate(member, actor, backend):
    api = token_client(member, actor=actor)
    with at(39):  # the last second of a clock minute
        statuses = [api.get(URL).status_code for _ in range(2)]

    with at(41):  # the next clock minute: a fixed window would start afresh here
        refused = api.get(URL)

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "58"


def test_refused_requests_do_not_push_the_window_back(member, actor, backend):
    api = token_client(member, actor=actor)
    with at(0):
        for _ in range(2):
            api.get(URL)
    with at(30):
        for _ in range(5):
            assert api.get(URL).status_code == 429

    with at(61):  # a minute after the two that counted, whatever was refused since
        assert api.get(URL).status_code == 200


def test_each_token_has_its_own_count(member, actor, backend):
    first, second = token_client(member, actor=actor), token_client(member, actor=actor)

    with at(0):
        for _ in range(2):
            first.get(URL)
        assert first.get(URL).status_code == 429
        assert second.get(URL).status_code == 200


def test_the_session_is_counted_per_person(member, owner, backend):
    with at(0):
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
