"""Every query parameter and path id the API reads, fed hostile values one at a time: a 4xx
with a sentence or an answer, never a 500, and a refusal writes nothing."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bad_input.checks import assert_refused_in_words_or_accepted
from tests.bad_input.strategies import any_form_field

AUDIT = ["actor", "action", "target", "connector", "member", "outcome", "date_from", "date_to"]
USAGE = ["kind", "connector", "member", "date_from", "date_to"]
QUERIES = [
    ("/api/v1/orgs/acme/audit-events", {}, [*AUDIT, "cursor", "limit"]),
    ("/api/v1/orgs/acme/usage-events", {}, [*USAGE, "cursor", "limit"]),
    ("/api/v1/orgs/acme/audit-events/export", {"format": "csv"}, [*AUDIT, "format"]),
    ("/api/v1/orgs/acme/usage-events/export", {"format": "jsonl"}, [*USAGE, "format"]),
    ("/api/v1/orgs/acme/messages-api-config", {}, ["connectors"]),
]
CASES = [(path, params, name) for path, params, names in QUERIES for name in names]
IDS = [
    "/api/v1/orgs/{id}",
    "/api/v1/orgs/acme/connectors/{id}",
    "/api/v1/orgs/acme/health-runs/{id}",
    "/api/v1/orgs/acme/exports/{id}",
    "/api/v1/orgs/acme/exports/{id}/download",
]
_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def roomy_rate_limit(settings, tmp_path):
    settings.ORGCONNECTORS_CONFIG_RATE_LIMIT = "100000/min"
    settings.ORGCONNECTORS_EXPORT_DIR = tmp_path / "exports"


@pytest.mark.parametrize(("path", "params", "name"), CASES)
@_SETTINGS
@given(value=any_form_field)
def test_no_query_parameter_of_the_api_answers_a_server_error(
    owner_api, stored, path, params, name, value
):
    before = stored()
    response = owner_api.get(path, {**params, name: value})
    assert_refused_in_words_or_accepted(response)
    if response.status_code >= 400:
        assert stored() == before


_ids = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "-1", "9223372036854775808", "1e3", "0x10", "１", "%00", "..", "%2F"]),
    st.text(alphabet="0123456789abc-_.~%", min_size=1, max_size=30),
)


@pytest.mark.parametrize("path", IDS)
@_SETTINGS
@given(value=_ids)
def test_no_id_in_an_api_path_answers_a_server_error(owner_api, path, value):
    response = owner_api.get(path.format(id=value))
    assert_refused_in_words_or_accepted(response)


@pytest.mark.parametrize("connectors", ["²", "١", "9" * 5000, "1,²,x"])
def test_the_configuration_names_a_connector_id_that_is_not_a_number_as_unknown(
    owner_api, connectors
):
    response = owner_api.get("/api/v1/orgs/acme/messages-api-config", {"connectors": connectors})
    assert response.status_code == 400
    assert "has no connector called" in response.json()["errors"]["connectors"][0]
