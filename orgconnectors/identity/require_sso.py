"""Requiring single sign-on: members of the organization can no longer sign in with a password
(identity/account_adapter.py refuses it); owners keep the operator's break-glass link
(identity/break_glass.py). Turning it on is previewed and audited."""

from dataclasses import dataclass

from django.db import transaction

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.models import ClaimedDomain, SingleSignOn
from orgconnectors.identity.sso_selectors import members_without_sso
from orgconnectors.organizations.models import Membership, Organization


@dataclass(frozen=True)
class RequireSsoPreview:
    # Members and auditors who have never signed in through SSO: once it is required, their
    # password stops working and their first sign-in must be through the identity provider.
    locked_out: list[Membership]
    # Owners who have never signed in through SSO: refused a password too, but an operator can
    # issue them a break-glass link.
    owners: list[Membership]

    @property
    def counts(self) -> dict[str, int]:
        return {"members_without_sso": len(self.locked_out), "owners_without_sso": len(self.owners)}


def require_sso_preview(*, organization: Organization) -> RequireSsoPreview:
    never = list(members_without_sso(organization))
    return RequireSsoPreview(
        locked_out=[m for m in never if m.role != Membership.Role.OWNER],
        owners=[m for m in never if m.role == Membership.Role.OWNER],
    )


def require_sso_set(*, organization: Organization, required: bool, actor: Actor) -> SingleSignOn:
    with transaction.atomic():
        sso = SingleSignOn.objects.select_for_update().filter(organization=organization).first()
        if sso is None:
            raise ServiceError(
                "Set up single sign-on first: requiring it without an identity provider would "
                "leave nobody a way to sign in."
            )
        if sso.require_sso == required:
            return sso
        if (
            required
            and not ClaimedDomain.objects.filter(
                organization=organization, verified_at__isnull=False
            ).exists()
        ):
            raise ServiceError(
                "Verify a domain first: the sign-in page sends people to your identity provider "
                "by the domain of their address."
            )
        sso.require_sso = required
        sso.save(update_fields=["require_sso", "updated_at"])
        audit_record(
            organization=organization,
            actor=actor,
            action="sso.required_on" if required else "sso.required_off",
            target=sso,
            changes={
                "require_sso": {"before": not required, "after": required},
                **require_sso_preview(organization=organization).counts,
            },
        )
    return sso


def organizations_requiring_sso(*, user) -> list[Organization]:
    """The organizations of `user` (any role) that require single sign-on."""
    if user is None or not getattr(user, "pk", None):
        return []
    return list(
        Organization.objects.filter(
            memberships__user=user, single_sign_on__require_sso=True
        ).order_by("name")
    )


def password_sign_in_refusal(*, user) -> str:
    """Why `user` may not sign in with a password ("" when they may)."""
    organizations = organizations_requiring_sso(user=user)
    if not organizations:
        return ""
    names = ", ".join(organization.name for organization in organizations)
    if len(organizations) == 1:
        return (
            f"{names} requires single sign-on: your password no longer signs you in. Use "
            "“Sign in with single sign-on” with your work address."
        )
    return (
        f"{names} require single sign-on, so your password no longer signs you in anywhere here. "
        "Use “Sign in with single sign-on” with your work address."
    )
