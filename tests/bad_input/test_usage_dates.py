"""The audit and usage filters at the edges of the calendar: the first and last representable
days are dates like any other, never a server error."""

import pytest

EXTREMES = [
    {"date_to": "9999-12-31"},
    {"date_from": "0001-01-01"},
    {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    {"date_from": "9999-12-31"},
    {"date_to": "0001-01-01"},
]


@pytest.mark.parametrize("dates", EXTREMES)
def test_the_usage_export_page_takes_the_first_and_last_days_of_the_calendar(owner_browser, dates):
    response = owner_browser.get("/orgs/acme/usage/export/", {"format": "csv", **dates})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("dates", EXTREMES)
def test_the_usage_export_api_takes_the_first_and_last_days_of_the_calendar(owner_api, dates):
    response = owner_api.get("/api/v1/orgs/acme/usage-events/export", {"format": "csv", **dates})
    assert response.status_code == 200


@pytest.mark.parametrize("dates", EXTREMES)
@pytest.mark.parametrize(
    "path",
    [
        ("/orgs/acme/usage/events/", {}),
        ("/orgs/acme/audit/", {}),
        ("/orgs/acme/audit/export/", {"format": "jsonl"}),
    ],
)
def test_the_audit_and_usage_pages_take_the_first_and_last_days_of_the_calendar(
    owner_browser, path, dates
):
    path, params = path
    assert owner_browser.get(path, {**params, **dates}).status_code == 200


@pytest.mark.parametrize("dates", EXTREMES)
@pytest.mark.parametrize(
    "path",
    [
        ("/api/v1/orgs/acme/usage-events", {}),
        ("/api/v1/orgs/acme/audit-events", {}),
        ("/api/v1/orgs/acme/audit-events/export", {"format": "csv"}),
    ],
)
def test_the_audit_and_usage_api_take_the_first_and_last_days_of_the_calendar(
    owner_api, path, dates
):
    path, params = path
    assert owner_api.get(path, {**params, **dates}).status_code == 200


def test_east_of_utc_the_first_day_of_the_calendar_is_still_a_date(owner_browser, settings):
    # Midnight of 0001-01-01 in Tokyo is in year 0 in UTC: no datetime can hold it.
    settings.TIME_ZONE = "Asia/Tokyo"
    for path in ("/orgs/acme/audit/", "/orgs/acme/usage/events/"):
        assert owner_browser.get(path, {"date_from": "0001-01-01"}).status_code == 200
