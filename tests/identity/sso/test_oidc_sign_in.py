"""Signing in through Acme's OpenID Connect provider (a real one on loopback): who gets in, who
joins just in time, who is refused."""

import html

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.identity.require_sso import require_sso_set
from orgconnectors.identity.sso_selectors import members_without_sso
from orgconnectors.organizations.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.responses import text

pytestmark = pytest.mark.django_db


def _signed_in_as(client):
    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id) if user_id else None


def test_a_person_of_a_verified_domain_joins_at_first_sign_in_with_the_default_role(
    client, org, acme_domain, acme_sso, sso_sign_in
):
    answer = sso_sign_in("newcomer@acme.test")
    assert answer.status_code == 302, answer.content.decode()[:2000]
    user = _signed_in_as(client)
    assert user.email == "newcomer@acme.test"
    assert not user.has_usable_password()
    membership = Membership.objects.get(organization=org, user=user)
    assert membership.role == "member"
    actions = list(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    # One join, one event: it says how they came in.
    assert actions.count("membership.joined_by_sso") == 1
    assert "membership.added" not in actions
    assert "sso.signed_in" in actions
    assert SocialAccount.objects.get(user=user).provider == "org-acme"


def test_the_default_role_chosen_by_the_owners_is_the_new_members_role(
    client, org, owner, acme_domain, acme_sso, sso_sign_in, actor
):
    acme_sso.default_role = "auditor"
    acme_sso.save()
    assert sso_sign_in("reader@acme.test").status_code == 302
    assert Membership.objects.get(organization=org, user__email="reader@acme.test").role == (
        "auditor"
    )


def test_an_existing_member_of_a_verified_domain_is_linked_to_their_account(
    client, org, member, acme_domain, acme_sso, sso_sign_in
):
    assert sso_sign_in("member@acme.test").status_code == 302
    assert _signed_in_as(client) == member.user
    assert SocialAccount.objects.filter(user=member.user, provider="org-acme").exists()
    assert member not in members_without_sso(org)
    assert Membership.objects.filter(organization=org, user=member.user).count() == 1


def test_a_person_outside_the_verified_domains_who_is_not_a_member_is_refused(
    client, org, acme_domain, acme_sso, sso_sign_in
):
    answer = sso_sign_in("stranger@elsewhere.test")
    assert answer.status_code == 403
    assert "stranger@elsewhere.test is not a member of Acme" in answer.content.decode()
    assert _signed_in_as(client) is None
    assert not get_user_model().objects.filter(email="stranger@elsewhere.test").exists()


def test_another_domains_account_is_not_taken_over_by_the_organizations_provider(
    client, org, acme_domain, acme_sso, sso_sign_in
):
    victim = UserFactory(email="victim@elsewhere.test")
    MembershipFactory(organization=org, user=victim)
    answer = sso_sign_in("victim@elsewhere.test")
    assert answer.status_code == 403
    assert "sign in with your password first" in answer.content.decode()
    assert _signed_in_as(client) is None
    assert not SocialAccount.objects.filter(user=victim).exists()


def test_a_member_outside_the_domains_links_once_while_signed_in_with_their_password(
    client, org, acme_domain, acme_sso, sso_sign_in
):
    contractor = UserFactory(email="contractor@elsewhere.test")
    MembershipFactory(organization=org, user=contractor)
    client.force_login(contractor)
    assert sso_sign_in("contractor@elsewhere.test").status_code == 302
    client.logout()
    assert sso_sign_in("contractor@elsewhere.test").status_code == 302
    assert _signed_in_as(client) == contractor


def test_an_address_the_provider_has_not_verified_is_refused_outside_the_domains(
    client, org, acme_domain, acme_sso, sso_sign_in
):
    contractor = UserFactory(email="contractor@elsewhere.test")
    MembershipFactory(organization=org, user=contractor)
    client.force_login(contractor)
    answer = sso_sign_in("contractor@elsewhere.test", email_verified=False)
    assert answer.status_code == 403
    assert "has not verified contractor@elsewhere.test" in answer.content.decode()


def test_a_verified_domain_is_trusted_even_without_email_verified(
    client, org, acme_domain, acme_sso, sso_sign_in
):
    assert sso_sign_in("quiet@acme.test", email_verified=False).status_code == 302
    assert _signed_in_as(client).email == "quiet@acme.test"


def test_members_without_sso_lists_those_who_never_signed_in_through_it(
    client, org, owner, member, acme_domain, acme_sso, sso_sign_in
):
    assert set(members_without_sso(org)) == {owner, member}
    sso_sign_in("member@acme.test")
    assert list(members_without_sso(org)) == [owner]


def test_a_callback_that_does_not_answer_this_browsers_sign_in_is_refused_with_a_reason(
    client, org, acme_domain, acme_sso
):
    answer = client.get("/accounts/oidc/org-acme/login/callback/?code=forged&state=forged")
    assert answer.status_code == 403
    assert "Single sign-on did not complete" in answer.content.decode()
    assert _signed_in_as(client) is None


def test_the_provider_of_an_organization_without_single_sign_on_is_not_found(client, org):
    assert client.post("/accounts/oidc/org-acme/login/").status_code == 404


def test_allauths_requests_to_the_provider_go_through_the_egress_guard(
    client, org, acme_domain, acme_sso, settings
):
    # Configured while loopback was allowed; now the guard refuses the provider's address.
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False
    answer = client.post("/accounts/oidc/org-acme/login/", {"process": "login"})
    assert answer.status_code == 502
    body = html.unescape(text(answer))
    assert "Acme's identity provider could not be reached" in body
    assert "http:// is not allowed" in body


def test_the_login_pages_single_sign_on_says_when_the_provider_cannot_be_reached(
    client, org, acme_domain, acme_sso, settings
):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False
    answer = client.post("/sign-in/sso/", {"email": "someone@acme.test"})
    assert answer.status_code == 502
    assert "Acme's identity provider could not be reached" in html.unescape(text(answer))


def test_while_single_sign_on_is_required_a_member_still_signs_in_through_it(
    client, org, owner, member, acme_domain, acme_sso, sso_sign_in
):
    require_sso_set(organization=org, required=True, actor=Actor(user=owner.user))
    assert sso_sign_in("member@acme.test").status_code == 302
    assert _signed_in_as(client) == member.user
    assert list(members_without_sso(org)) == [owner]
