"""With Redis stopped, reading and connecting keep working: the configuration's rate limit and
allauth's (in Django's cache) let requests through with a warning in the log, and work asked
for waits (in the outbox, tests/outbox/test_outbox.py) instead of turning the request into an error
page."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from orgconnectors.connectors.models import Connection
from orgconnectors.health.models import HealthRun
from tests.api.conftest import token_client
from tests.factories import ConnectorFactory
from tests.messages_api.helpers import CONFIG

pytestmark = pytest.mark.django_db


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_the_messages_api_configuration_answers_while_redis_is_down(
    member, actor, own_redis, caplog
):
    api = token_client(member, actor=actor)
    own_redis.stop()

    with caplog.at_level(logging.WARNING):
        response = api.get(CONFIG.format(org="acme"))

    assert response.status_code == 200
    assert "the messages-api-config rate limit lets this request through" in caplog.text


def test_signing_in_works_while_redis_is_down(member, own_redis, caplog):
    member.user.set_password("a-long-password-1")
    member.user.save()
    own_redis.stop()

    with caplog.at_level(logging.WARNING):
        wrong = Client().post(
            reverse("account_login"), {"login": "member@acme.test", "password": "wrong"}
        )
        right = Client().post(
            reverse("account_login"),
            {"login": "member@acme.test", "password": "a-long-password-1"},
        )

    assert wrong.status_code == 200  # the form again, saying the password is wrong
    assert right.status_code == 302
    assert "Django's cache on Redis is unreachable" in caplog.text


def test_pages_answer_and_connecting_works_while_redis_is_down(org, member, own_redis):
    connector = ConnectorFactory(organization=org, name="Docs")
    browser = signed_in(member)
    own_redis.stop()

    connect = browser.post(reverse("connection_enable", args=["acme", connector.pk]))
    page = browser.get(reverse("my_connectors", args=["acme"]))

    assert connect.status_code == 302
    assert page.status_code == 200
    assert Connection.objects.get(connector=connector).state == Connection.State.ENABLED


def test_check_all_answers_while_the_broker_is_down(
    org, owner, own_redis, django_capture_on_commit_callbacks
):
    ConnectorFactory(organization=org)
    own_redis.stop()

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(owner).post(reverse("health_check_all", args=["acme"]))

    assert response.status_code == 302
    assert HealthRun.objects.get().finished_at is None  # waits for the broker (test_outbox.py)
