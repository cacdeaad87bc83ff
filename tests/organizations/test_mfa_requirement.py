"""An organization may require two-factor authentication of its owners and auditors."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import AuditEvent
from orgconnectors.organizations.organization_settings import organization_settings_update
from tests.factories import PASSWORD, MembershipFactory
from tests.organizations.totp import confirm_with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def requiring(org, owner, actor):
    return organization_settings_update(
        organization=org, require_two_factor=True, actor=actor(owner)
    )


def _sign_in(client, membership):
    """Through allauth's form, so the session carries a fresh sign-in like a person's would."""
    EmailAddress.objects.get_or_create(
        user=membership.user, email=membership.user.email, primary=True, verified=True
    )
    return client.post(
        reverse("account_login"),
        {"login": membership.user.email, "password": PASSWORD},
        follow=True,
    )


def _activate_totp(membership):
    TOTP.activate(membership.user, generate_totp_secret())


# The service


def test_requiring_mfa_is_recorded_in_the_audit_trail(org, owner, actor):
    organization_settings_update(organization=org, require_two_factor=True, actor=actor(owner))

    org.refresh_from_db()
    assert org.require_mfa_for_owners_and_auditors is True
    event = AuditEvent.objects.get(action="organization.mfa_requirement_changed")
    assert event.organization == org
    assert event.actor == owner.user
    assert event.changes == {
        "require_mfa_for_owners_and_auditors": {"before": False, "after": True}
    }


def test_setting_the_same_value_again_records_nothing(org, owner, actor, requiring):
    organization_settings_update(organization=org, require_two_factor=True, actor=actor(owner))

    assert AuditEvent.objects.filter(action="organization.mfa_requirement_changed").count() == 1


def test_an_owner_toggles_it_on_the_plan_page(client, org, owner):
    client.force_login(owner.user)

    page = client.get(reverse("plan", args=[org.slug]))
    assert b"Require two-factor authentication" in page.content
    response = client.post(reverse("organization_mfa", args=[org.slug]), {"require_mfa": "true"})

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.require_mfa_for_owners_and_auditors is True


def test_a_member_cannot_toggle_it(client, org, member):
    client.force_login(member.user)

    response = client.post(reverse("organization_mfa", args=[org.slug]), {"require_mfa": "true"})

    assert response.status_code == 403
    org.refresh_from_db()
    assert org.require_mfa_for_owners_and_auditors is False


# Enforcement at sign-in and on every page of the organization


@pytest.mark.parametrize("role", ["owner", "auditor"])
def test_signing_in_without_an_authenticator_leads_to_totp_activation(
    client, request, requiring, role
):
    membership = request.getfixturevalue(role)

    response = _sign_in(client, membership)

    # allauth asks for the password once more before a factor is added, then goes on to it.
    visited = [url for url, _status in response.redirect_chain]
    assert reverse("mfa_activate_totp") in visited
    assert visited[-1].startswith(reverse("account_reauthenticate"))
    assert b"requires two-factor authentication" in response.content


@pytest.mark.parametrize("route", ["connector_list", "audit_list", "plan"])
def test_organization_pages_stay_closed_until_totp_is_activated(
    client, org, owner, requiring, route
):
    client.force_login(owner.user)

    refused = client.get(reverse(route, args=[org.slug]))
    _activate_totp(owner)
    # Activated elsewhere, this session still has not used it: the code is asked for first.
    unconfirmed = client.get(reverse(route, args=[org.slug]))
    confirm_with_totp(client, owner.user)
    allowed = client.get(reverse(route, args=[org.slug]))

    assert refused.status_code == 302
    assert refused.url == reverse("mfa_activate_totp")
    assert unconfirmed.status_code == 302
    assert unconfirmed.url.startswith(reverse("mfa_reauthenticate"))
    assert allowed.status_code == 200


def test_members_are_not_asked_for_a_second_factor(client, org, member, requiring):
    client.force_login(member.user)

    response = client.get(reverse("my_connectors", args=[org.slug]))

    assert response.status_code == 200


def test_without_the_requirement_nobody_is_asked(client, org, owner):
    client.force_login(owner.user)

    response = client.get(reverse("connector_list", args=[org.slug]))

    assert response.status_code == 200


def test_the_requirement_applies_only_to_the_organization_that_sets_it(
    client, owner, requiring, other_org
):
    MembershipFactory(organization=other_org, role="owner", user=owner.user)
    client.force_login(owner.user)

    response = client.get(reverse("connector_list", args=[other_org.slug]))

    assert response.status_code == 200


def test_two_factor_pages_render_in_the_layout_and_are_linked(client, org, owner):
    _sign_in(client, owner)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    home = client.get(reverse("connector_list", args=[org.slug]))
    index = client.get(reverse("mfa_index"))
    activate = client.get(reverse("mfa_activate_totp"))

    link = f'href="{reverse("mfa_index")}"'.encode()
    assert link in home.content
    for page in (index, activate):
        assert page.status_code == 200
        # The dashboard's own layout: its top bar and the link back to the two-factor overview.
        assert b'class="topbar"' in page.content
        assert link in page.content


# The JSON API


def test_the_api_refuses_a_token_until_totp_is_activated(client, org, owner, actor, requiring):
    _token, secret = api_token_create(membership=owner, name="Script", actor=actor(owner))
    headers = {"Authorization": f"Bearer {secret}"}

    refused = client.get(f"/api/v1/orgs/{org.slug}", headers=headers)
    _activate_totp(owner)
    allowed = client.get(f"/api/v1/orgs/{org.slug}", headers=headers)

    assert refused.status_code == 403
    assert "requires two-factor authentication" in refused.json()["detail"]
    assert allowed.status_code == 200


def test_the_api_serves_members_of_a_requiring_organization(client, org, member, actor, requiring):
    _token, secret = api_token_create(membership=member, name="Script", actor=actor(member))

    response = client.get(f"/api/v1/orgs/{org.slug}", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200
