"""Once an organization requires single sign-on, its people's passwords no longer sign them in
through allauth's sign-in page, owners included; a password reset is no way around it."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from orgconnectors.identity.require_sso import require_sso_set
from tests.factories import PASSWORD, MembershipFactory
from tests.responses import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_requires_sso(org, owner, single_sign_on, verified_domain, actor):
    single_sign_on(org)
    verified_domain(org)
    require_sso_set(organization=org, required=True, actor=actor(owner))


def _sign_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


REFUSAL = (
    "Acme requires single sign-on: your password no longer signs you in. Use “Sign in with "
    "single sign-on” with your work address."
)


def test_a_member_is_refused_a_password_sign_in(client, member, verified_email, acme_requires_sso):
    verified_email(member)

    response = _sign_in(client, "member@acme.test")

    assert response.status_code == 200
    assert REFUSAL in text(response)
    assert SESSION_KEY not in client.session


def test_an_owner_is_refused_too(client, owner, verified_email, acme_requires_sso):
    verified_email(owner)

    response = _sign_in(client, "owner@acme.test")

    assert REFUSAL in text(response)
    assert SESSION_KEY not in client.session


def test_a_wrong_password_is_told_as_usual_without_the_refusal(
    client, member, verified_email, acme_requires_sso
):
    verified_email(member)

    response = _sign_in(client, "member@acme.test", "not-the-password")

    assert "requires single sign-on" not in text(response)
    assert SESSION_KEY not in client.session


def test_a_person_in_several_organizations_is_refused_when_any_requires_it(
    client, other_org, verified_email, acme_requires_sso, org
):
    both = MembershipFactory(organization=other_org, user__email="both@globex.test")
    MembershipFactory(organization=org, user=both.user)
    verified_email(both)

    response = _sign_in(client, "both@globex.test")

    assert REFUSAL in text(response)
    assert SESSION_KEY not in client.session


def test_people_of_organizations_that_do_not_require_it_sign_in_as_before(
    client, other_member, verified_email, acme_requires_sso
):
    verified_email(other_member)

    response = _sign_in(client, "member@globex.test")

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(other_member.user.pk)


def test_a_password_reset_works_but_the_new_password_is_refused_too(
    client, member, verified_email, acme_requires_sso
):
    verified_email(member)
    client.post(reverse("account_reset_password"), {"email": "member@acme.test"})
    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body)[1]
    set_password_page = client.get(link)["Location"]

    reset = client.post(
        set_password_page,
        {"password1": "A-new-passphrase-93", "password2": "A-new-passphrase-93"},
    )
    signed_in_after_reset = SESSION_KEY in client.session
    response = _sign_in(client, "member@acme.test", "A-new-passphrase-93")

    assert reset.status_code == 302
    assert reset["Location"] == reverse("account_reset_password_from_key_done")
    assert not signed_in_after_reset
    member.user.refresh_from_db()
    assert member.user.check_password("A-new-passphrase-93")
    assert REFUSAL in text(response)
    assert SESSION_KEY not in client.session


def test_passwords_work_again_once_it_is_no_longer_required(
    client, org, owner, member, verified_email, acme_requires_sso, actor
):
    verified_email(member)
    require_sso_set(organization=org, required=False, actor=actor(owner))

    response = _sign_in(client, "member@acme.test")

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(member.user.pk)


def test_someone_signed_in_may_still_confirm_their_password_to_reauthenticate(
    client, owner, verified_email, acme_requires_sso
):
    # Signed in through SSO or a break-glass link; allauth asks for the password again before
    # two-factor setup, which is not a sign-in.
    verified_email(owner)
    client.force_login(owner.user)

    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(owner.user.pk)
