import pytest
from django.db import connections

from tests.ops.redis_server import free_port, throwaway_redis  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(settings, throwaway_redis):  # noqa: F811
    settings.REDIS_URL = throwaway_redis.url
    return throwaway_redis


def test_healthz_answers_without_login_or_dependencies(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "live"}


def test_readyz_is_200_when_the_database_and_the_broker_answer(client, broker):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_naming_the_broker_once_redis_stops(client, broker):
    assert client.get("/readyz").status_code == 200
    broker.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    assert response.json()["checks"]["database"] == "ok"


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(client, broker, monkeypatch):
    # The probe opens a connection of its own from these settings: a port nobody listens on.
    monkeypatch.setitem(connections["default"].settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connections["default"].settings_dict, "PORT", str(free_port()))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert "127.0.0.1" not in response.content.decode()  # what is down, never why


def test_probes_answer_over_http_by_ip_address_when_the_site_redirects_to_https(
    client, settings, broker
):
    # A load balancer probes http://10.0.0.5/readyz: no https redirect, no host check.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["orgconnectors.example.com"]
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.0.0.5")
        assert response.status_code == 200, (path, response.status_code)
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.5").status_code == 400


def test_probes_are_not_rate_limited(client, broker):
    statuses = {client.get("/readyz").status_code for _ in range(30)}
    assert statuses == {200}
