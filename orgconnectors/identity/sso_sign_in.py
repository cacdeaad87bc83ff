"""What a successful sign-in through an organization's identity provider records: the person's
just-in-time membership (their first sign-in, in a domain the organization has verified) and the
sign-in itself, audited together."""

from django.db import IntegrityError, transaction

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.sso_selectors import domain_is_verified_for
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.services import membership_add


def sso_signed_in(*, sso: SingleSignOn, user, actor: Actor) -> Membership | None:
    """Record the sign-in; make the membership with the default role when the person is new to
    the organization and in one of its verified domains. None: not a member (the adapter has
    refused such a sign-in before it succeeded; an owner may have removed them since)."""
    organization = sso.organization
    with transaction.atomic():
        membership = Membership.objects.filter(organization=organization, user=user).first()
        if membership is None and domain_is_verified_for(
            organization=organization, email=user.email
        ):
            try:
                membership = membership_add(
                    organization=organization,
                    user=user,
                    role=sso.default_role,
                    actor=actor,
                    action="membership.joined_by_sso",
                )
            except (OrganizationError, IntegrityError):
                # Added at the same moment by another request: theirs is the membership.
                membership = Membership.objects.filter(organization=organization, user=user).first()
        audit_record(
            organization=organization,
            actor=actor,
            action="sso.signed_in",
            target=sso,
            changes={"email": {"before": None, "after": user.email}},
        )
    return membership
