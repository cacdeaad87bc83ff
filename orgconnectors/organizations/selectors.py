"""Reads that start from the person asking: what is not theirs does not exist (404)."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from orgconnectors.core.errors import NotAllowed
from orgconnectors.organizations.models import (
    Invitation,
    Membership,
    Organization,
    PlanChangeRequest,
)

Role = Membership.Role


def memberships_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization__plan")


def membership_for(*, user, slug: str) -> Membership:
    """The caller's membership in organization `slug`, or 404 for absent and not-yours alike."""
    if user is None or not user.is_authenticated:
        raise Http404("No such organization")
    membership = memberships_for_user(user=user).filter(organization__slug=slug).first()
    if membership is None:
        raise Http404("No such organization")
    return membership


_PLURALS = {Role.OWNER: "owners", Role.MEMBER: "members", Role.AUDITOR: "auditors"}


def require_role(membership: Membership, *roles: str) -> Membership:
    """Raise NotAllowed (403) unless the membership has one of `roles`."""
    if membership.role not in roles:
        who = " and ".join(_PLURALS[Role(role)] for role in roles)
        raise NotAllowed(
            f"Only {who} can do this; your role in {membership.organization.name} is "
            f"{membership.get_role_display().lower()}."
        )
    return membership


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .annotate(
            connections_in_use=Count(
                "connections", filter=Q(connections__state__in=("enabled", "needs_authorization"))
            )
        )
        .order_by("user__email")
    )


def owner_count(*, organization: Organization) -> int:
    return Membership.objects.filter(organization=organization, role=Membership.Role.OWNER).count()


def member_get(*, organization: Organization, member_id) -> Membership:
    try:
        return Membership.objects.select_related("user", "organization").get(
            organization=organization, pk=int(member_id)
        )
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404("No such member") from None


def pending_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")


def invitation_get(*, organization: Organization, invitation_id) -> Invitation:
    try:
        return Invitation.objects.get(organization=organization, pk=int(invitation_id))
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such invitation") from None


def pending_plan_request(*, organization: Organization):
    """The owners' request the operator has not answered yet, if any."""
    return (
        PlanChangeRequest.objects.filter(
            organization=organization, status=PlanChangeRequest.Status.PENDING
        )
        .select_related("plan")
        .first()
    )


def owner_emails(*, organization_id: int) -> list[str]:
    """The owners' addresses, for the emails owners get (each sent on its own)."""
    return list(
        Membership.objects.filter(organization_id=organization_id, role=Membership.Role.OWNER)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
