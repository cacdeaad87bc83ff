"""Organization names and invited addresses reach email subjects and recipients: control
characters are refused where they are set, and a subject is one line whatever is stored."""

import pytest

from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.invitations import invitation_create
from orgconnectors.organizations.models import Invitation, Organization
from orgconnectors.organizations.services import organization_create


@pytest.mark.parametrize("name", ["Acme\nBcc: all@example.com", "Ac\x00me", "Acme\u2029Ltd"])
def test_an_organization_name_with_control_characters_is_refused(owner, plan, actor, name):
    with pytest.raises(OrganizationError, match="control characters") as refused:
        organization_create(
            slug="initech", name=name, plan=plan("free"), owner=owner.user, actor=actor(owner)
        )
    assert refused.value.field == "name"
    assert not Organization.objects.filter(slug="initech").exists()


@pytest.mark.parametrize("email", ["a@example.com\nBcc: b@example.com", "a@exa\rmple.com"])
def test_an_invitation_to_an_address_with_control_characters_is_refused(
    org, owner, actor, mailoutbox, email
):
    with pytest.raises(OrganizationError, match="control characters"):
        invitation_create(organization=org, email=email, role="member", actor=actor(owner))
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_an_organization_name_stored_with_a_line_break_makes_a_one_line_invitation_subject(
    org, owner, actor, mailoutbox, django_capture_on_commit_callbacks, eager_celery
):
    Organization.objects.filter(pk=org.pk).update(name="Acme\r\nBcc: all@example.com")
    org.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            organization=org, email="new@example.com", role="member", actor=actor(owner)
        )
    (message,) = mailoutbox
    assert message.subject == "You are invited to Acme Bcc: all@example.com on orgconnectors"
