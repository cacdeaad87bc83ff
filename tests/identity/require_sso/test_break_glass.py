"""The operator's break-glass link: an owner of an organization that requires single sign-on
signs in once with it, while it lasts; their second factor is still asked for."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.identity.models import BreakGlassLink
from orgconnectors.identity.require_sso import require_sso_set
from tests.organizations.totp import activate_totp, current_code
from tests.responses import text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def acme_requires_sso(org, owner, single_sign_on, verified_domain, actor):
    single_sign_on(org)
    verified_domain(org)
    require_sso_set(organization=org, required=True, actor=actor(owner))


def _issue(email="owner@acme.test", *extra) -> str:
    out = StringIO()
    call_command(
        "break_glass_link", "acme", email, "--reason", "Okta is down", "--operator", "ana", *extra,
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    return out.getvalue().strip()


def _path(url: str) -> str:
    return url[url.index("/sign-in/break-glass/") :]


def test_the_command_prints_a_one_time_link_and_audits_it(owner, settings):
    url = _issue()

    assert url.startswith(f"{settings.ORGCONNECTORS_BASE_URL}/sign-in/break-glass/")
    link = BreakGlassLink.objects.get()
    assert link.user == owner.user
    assert link.reason == "Okta is down"
    assert timedelta(minutes=29) < link.expires_at - timezone.now() <= timedelta(minutes=30)
    # Only its hash is kept.
    assert link.token_hash not in url
    event = AuditEvent.objects.get(action="sso.break_glass_issued")
    assert event.actor_label == "break_glass_link command (ana)"
    assert event.changes == {"reason": "Okta is down", "minutes": 30, "email": "owner@acme.test"}


@pytest.mark.parametrize("email", ["member@acme.test", "owner@globex.test", "nobody@acme.test"])
def test_only_an_owner_of_the_organization_can_get_a_link(email, member, other_owner):
    with pytest.raises(CommandError, match="is not an owner of Acme"):
        _issue(email)

    assert not BreakGlassLink.objects.exists()


def test_opening_the_link_asks_before_it_is_spent(client, owner):
    path = _path(_issue())

    response = client.get(path)

    assert response.status_code == 200
    assert "Sign in as owner@acme.test" in text(response)
    assert SESSION_KEY not in client.session
    assert BreakGlassLink.objects.get().used_at is None


def test_the_link_signs_the_owner_in_once_and_it_is_audited(client, owner, verified_email):
    verified_email(owner)
    path = _path(_issue())

    response = client.post(path)
    client.logout()
    again = client.post(path)

    assert response.status_code == 302
    assert response["Location"] == reverse("org_home", kwargs={"slug": "acme"})
    event = AuditEvent.objects.get(action="sso.break_glass_used")
    assert event.actor == owner.user
    assert event.changes == {
        "reason": "Okta is down",
        "issued_by": "break_glass_link command (ana)",
    }
    assert again.status_code == 410
    assert "has been used already" in text(again)
    assert SESSION_KEY not in client.session


def test_the_signed_in_session_is_the_owners(client, owner, verified_email):
    verified_email(owner)

    client.post(_path(_issue()))

    assert client.session[SESSION_KEY] == str(owner.user.pk)


def test_an_expired_link_is_refused(client, owner, verified_email):
    verified_email(owner)
    path = _path(_issue("owner@acme.test", "--minutes", "5"))

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post(path)

    assert response.status_code == 410
    assert "This sign-in link has expired" in text(response)
    assert SESSION_KEY not in client.session
    assert not AuditEvent.objects.filter(action="sso.break_glass_used").exists()


def test_a_link_whose_person_is_no_longer_an_owner_is_refused(client, owner, verified_email):
    verified_email(owner)
    path = _path(_issue())
    owner.role = "member"
    owner.save()

    response = client.post(path)

    assert response.status_code == 403
    assert "which its person no longer is" in text(response)
    assert SESSION_KEY not in client.session


def test_an_owner_with_two_factor_authentication_is_asked_for_their_code(
    client, owner, verified_email
):
    verified_email(owner)
    activate_totp(owner.user)

    response = client.post(_path(_issue()))
    before_code = SESSION_KEY in client.session
    after = client.post(reverse("mfa_authenticate"), {"code": current_code(owner.user)})

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not before_code
    assert after.status_code == 302
    assert after["Location"] == reverse("org_home", kwargs={"slug": "acme"})
    assert client.session[SESSION_KEY] == str(owner.user.pk)
