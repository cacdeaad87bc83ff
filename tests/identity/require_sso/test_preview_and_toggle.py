"""Requiring single sign-on: the preview of who loses password sign-in, and the audited
switch."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.require_sso import require_sso_preview, require_sso_set
from orgconnectors.identity.sso_selectors import members_without_sso
from tests.factories import MembershipFactory
from tests.responses import text

pytestmark = pytest.mark.django_db


def _signed_in_through(membership, provider: str):
    SocialAccount.objects.create(user=membership.user, provider=provider, uid=membership.user.email)


def test_the_preview_lists_who_never_signed_in_through_sso_owners_apart(
    org, owner, member, auditor, other_org
):
    newcomer = MembershipFactory(organization=org, user__email="newcomer@acme.test")
    saml_person = MembershipFactory(organization=org, user__email="saml@acme.test")
    _signed_in_through(member, "org-acme")  # OpenID Connect
    _signed_in_through(saml_person, "acme")  # SAML
    # Signing in through another organization's provider does not count here.
    _signed_in_through(newcomer, "org-globex")

    preview = require_sso_preview(organization=org)

    assert [m.user.email for m in preview.locked_out] == ["auditor@acme.test", "newcomer@acme.test"]
    assert [m.user.email for m in preview.owners] == ["owner@acme.test"]
    assert preview.counts == {"members_without_sso": 2, "owners_without_sso": 1}
    assert set(members_without_sso(org)) == {owner, auditor, newcomer}


def test_it_cannot_be_required_before_sso_is_set_up(org, owner, actor):
    with pytest.raises(ServiceError, match="Set up single sign-on first"):
        require_sso_set(organization=org, required=True, actor=actor(owner))


def test_it_cannot_be_required_before_a_domain_is_verified(org, owner, single_sign_on, actor):
    single_sign_on(org)

    with pytest.raises(ServiceError, match="Verify a domain first"):
        require_sso_set(organization=org, required=True, actor=actor(owner))

    assert not SingleSignOn.objects.get(organization=org).require_sso


def test_turning_it_on_and_off_is_audited_with_the_preview_counts(
    org, owner, member, single_sign_on, verified_domain, actor
):
    single_sign_on(org)
    verified_domain(org)

    require_sso_set(organization=org, required=True, actor=actor(owner))
    require_sso_set(organization=org, required=True, actor=actor(owner))  # no change, no event
    require_sso_set(organization=org, required=False, actor=actor(owner))

    on, off = AuditEvent.objects.filter(action__startswith="sso.required").order_by("id")
    assert on.action == "sso.required_on"
    assert on.changes == {
        "require_sso": {"before": False, "after": True},
        "members_without_sso": 1,
        "owners_without_sso": 1,
    }
    assert on.actor == owner.user
    assert off.action == "sso.required_off"
    assert not SingleSignOn.objects.get(organization=org).require_sso


def test_the_sign_in_page_previews_and_confirms_it(
    client, org, owner, member, single_sign_on, verified_domain
):
    single_sign_on(org)
    verified_domain(org)
    client.force_login(owner.user)
    page = reverse("sign_in_settings", kwargs={"slug": "acme"})

    before = client.get(page)
    response = client.post(
        reverse("require_sso", kwargs={"slug": "acme"}), {"require_sso": "true"}, follow=True
    )

    assert "1 member has never signed in through single sign-on" in text(before)
    assert "member@acme.test (member)" in text(before)
    assert "Yes, require single sign-on" in text(before)
    assert response.redirect_chain[-1][0] == page + "#require-sso-title"
    assert "Single sign-on is required: passwords no longer sign members in." in text(response)
    assert "Stop requiring single sign-on" in text(response)
    assert SingleSignOn.objects.get(organization=org).require_sso


def test_the_page_says_why_it_cannot_be_required_yet(client, org, owner, single_sign_on):
    single_sign_on(org)
    client.force_login(owner.user)

    response = client.post(
        reverse("require_sso", kwargs={"slug": "acme"}), {"require_sso": "true"}, follow=True
    )

    assert "Verify a domain first" in text(response)
    assert not SingleSignOn.objects.get(organization=org).require_sso
