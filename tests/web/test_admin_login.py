"""The admin signs in through allauth (its rate limits, the second factor), never on its own
form."""

import time
from datetime import UTC, datetime

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "an-operators-password-1"


@pytest.fixture
def operator():
    return get_user_model().objects.create_superuser(email="ops@example.com", password=PASSWORD)


def _allauth_sign_in(client, next_url="/admin/"):
    return client.post(
        f"{reverse('account_login')}?next={next_url}",
        {"login": "ops@example.com", "password": PASSWORD},
    )


def test_posting_credentials_to_the_admin_login_does_not_sign_in(client, operator):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "ops@example.com", "password": PASSWORD}
    )

    assert SESSION_KEY not in client.session
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get("/admin/").status_code == 302


def test_the_admin_login_page_sends_the_browser_to_allauths_sign_in(client, operator):
    response = client.get("/admin/login/?next=/admin/oauth/keyrotation/")

    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('account_login')}?next=%2Fadmin%2Foauth%2Fkeyrotation%2F"
    )


def test_staff_who_sign_in_through_allauth_reach_the_admin(client, operator):
    response = _allauth_sign_in(client)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert "Site administration" in client.get("/admin/").content.decode()


def test_staff_with_a_second_factor_reach_the_admin_only_after_giving_it(client, operator):
    secret = generate_totp_secret()
    TOTP.activate(operator, secret)

    response = _allauth_sign_in(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert SESSION_KEY not in client.session
    assert client.get("/admin/").status_code == 302

    with time_machine.travel(datetime(2026, 12, 6, 12, 0, 10, tzinfo=UTC), tick=False):
        code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
        answered = client.post(reverse("mfa_authenticate"), {"code": code})

    assert answered.status_code == 302
    assert answered["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_people_who_are_not_staff_are_refused_the_admin_after_signing_in(client, db):
    person = get_user_model().objects.create_user(email="ops@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=True)
    _allauth_sign_in(client, next_url="/accounts/email/")

    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/").status_code == 403
