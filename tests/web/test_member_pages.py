import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from orgconnectors.organizations.invitations import invitation_create
from orgconnectors.organizations.models import Invitation, Membership
from tests.factories import PASSWORD, UserFactory

User = get_user_model()
Role = Membership.Role
PASSPHRASE = "Unusual-passphrase-71"


def signed_in(membership_or_user) -> Client:
    client = Client()
    client.force_login(getattr(membership_or_user, "user", membership_or_user))
    return client


@pytest.fixture
def invitation(org, owner, actor):
    """(invitation, the accept page's path) for newcomer@example.com as auditor."""
    invitation, token = invitation_create(
        organization=org, email="newcomer@example.com", role=Role.AUDITOR, actor=actor(owner)
    )
    return invitation, reverse("invitation_accept", args=[token])


# Accepting an invitation


def test_a_visitor_creates_the_account_and_is_signed_in(invitation, org):
    invitation, path = invitation
    client = Client()

    page = client.get(path)
    assert page.status_code == 200
    assert "newcomer@example.com" in page.content.decode()
    assert 'name="password1"' in page.content.decode()

    response = client.post(path, {"password1": PASSPHRASE, "password2": PASSPHRASE})

    assert response.status_code == 302
    assert response["Location"] == reverse("org_home", args=["acme"])
    user = User.objects.get(email="newcomer@example.com")
    assert user.check_password(PASSPHRASE)
    assert Membership.objects.get(user=user, organization=org).role == Role.AUDITOR
    # Signed in as the new account: the organization's start page opens without signing in.
    landing = client.get(response["Location"])
    assert landing.status_code == 302
    assert landing["Location"] == reverse("audit_list", args=["acme"])
    assert int(client.session["_auth_user_id"]) == user.pk
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


@pytest.mark.parametrize(
    "body, field, message",
    [
        (
            {"password1": PASSPHRASE, "password2": PASSPHRASE + "x"},
            "password2",
            "The two passwords differ; type the same one twice.",
        ),
        (
            {"password1": "", "password2": ""},
            "password1",
            "Choose a password for your new account.",
        ),
        ({"password1": "abc", "password2": "abc"}, "password1", "This password is too short."),
    ],
)
def test_a_password_it_cannot_take_is_explained_next_to_the_field(invitation, body, field, message):
    _invitation, path = invitation

    response = Client().post(path, body)

    assert response.status_code == 400
    html = response.content.decode()
    label, error, widget = (
        html.index(f'<label for="id_{field}"'),
        html.index(escape(message)),
        html.index(f'name="{field}"'),
    )
    assert label < error < widget
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_the_invited_person_already_signed_in_accepts_with_one_click(invitation, org):
    _invitation, path = invitation
    newcomer = UserFactory(email="newcomer@example.com")
    client = signed_in(newcomer)

    assert "Accept and join Acme" in client.get(path).content.decode()
    response = client.post(path)

    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer, organization=org).role == Role.AUDITOR
    newcomer.refresh_from_db()
    assert newcomer.check_password(PASSWORD)


def test_someone_signed_in_as_another_person_is_told_to_sign_out(invitation, member, org):
    invitation, path = invitation
    client = signed_in(member)

    page = client.get(path).content.decode()
    response = client.post(path)

    assert "You are signed in as member@acme.test" in page
    assert response.status_code == 400
    assert "This invitation is for newcomer@example.com" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_visitor_whose_address_has_an_account_is_asked_to_sign_in_not_to_create_one(
    invitation, org
):
    _invitation, path = invitation
    existing = UserFactory(email="newcomer@example.com")
    client = Client()

    page = client.get(path)
    response = client.post(path, {"password1": PASSPHRASE, "password2": PASSPHRASE})

    html = page.content.decode()
    assert page.status_code == 200
    assert "An account for newcomer@example.com already exists." in html
    assert 'name="password1"' not in html
    assert f"{reverse('account_login')}?next={path}" in html.replace("%2F", "/")
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)
    assert not existing.memberships.exists()


def test_signing_in_as_the_invited_address_brings_them_back_to_join(invitation, org):
    _invitation, path = invitation
    existing = UserFactory(email="newcomer@example.com")
    EmailAddress.objects.create(
        user=existing, email="newcomer@example.com", primary=True, verified=True
    )
    client = Client()

    signed = client.post(
        reverse("account_login") + f"?next={path}",
        {"login": "newcomer@example.com", "password": PASSWORD},
    )
    assert signed.status_code == 302
    assert signed["Location"] == path
    assert "Accept and join Acme" in client.get(path).content.decode()
    joined = client.post(path)

    assert joined.status_code == 302
    assert Membership.objects.get(user=existing, organization=org).role == Role.AUDITOR
    assert User.objects.filter(email__iexact="newcomer@example.com").count() == 1


def test_the_members_page_never_shows_the_link_it_emailed(
    owner, mailoutbox, django_capture_on_commit_callbacks, eager_celery
):
    client = signed_in(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("member_invite", args=["acme"]),
            {"email": "newcomer@example.com", "role": "member"},
            follow=True,
        )

    [mail] = mailoutbox
    token = re.search(r"/invitations/([^/\s]+)/", mail.body)[1]
    assert "Invitation sent to newcomer@example.com" in response.content.decode()
    assert token not in response.content.decode()
    assert token not in client.get(reverse("member_list", args=["acme"])).content.decode()


def test_a_used_link_says_so(invitation):
    _invitation, path = invitation
    Client().post(path, {"password1": PASSPHRASE, "password2": PASSPHRASE})

    response = Client().get(path)

    assert response.status_code == 400
    assert "This invitation has already been used." in response.content.decode()


# Members


def test_the_members_page_lists_members_and_pending_invitations(owner, member, invitation):
    html = signed_in(owner).get(reverse("member_list", args=["acme"])).content.decode()

    assert "member@acme.test" in html
    assert "newcomer@example.com" in html
    assert 'owner@acme.test <span class="muted">(you)</span>' in html


@pytest.mark.parametrize(
    "email, message",
    [
        ("member@acme.test", "member@acme.test is already in Acme."),
        ("not an address", "Enter a whole email address, like name@example.com."),
        (
            "a" * 250 + "@example.com",
            "This address is longer than the 254 characters an account can have.",
        ),
    ],
)
def test_inviting_shows_an_error_next_to_the_email(owner, member, email, message):
    response = signed_in(owner).post(
        reverse("member_invite", args=["acme"]), {"email": email, "role": "member"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert (
        html.index('<label for="id_email"')
        < html.index(escape(message))
        < html.index('name="email"')
    )
    assert not Invitation.objects.exists()


def test_the_last_owner_cannot_step_down_and_is_told_why_next_to_their_role(owner):
    response = signed_in(owner).post(
        reverse("member_role", args=["acme", owner.pk]), {"role": "member"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    message = escape("owner@acme.test is the only owner of Acme; make someone else an owner first.")
    assert f'<p class="field-error" id="role-{owner.pk}-error" role="alert">{message}</p>' in html
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_the_last_owner_cannot_be_removed(owner):
    response = signed_in(owner).post(reverse("member_remove", args=["acme", owner.pk]))

    assert response.status_code == 400
    assert "make someone else an owner before removing them" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()
