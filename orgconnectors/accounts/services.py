"""Removing a person from the deployment (the admin's delete), through the same rules as
removing them from each organization."""

from django.contrib.auth import get_user_model
from django.db import transaction

from orgconnectors.core.actor import Actor
from orgconnectors.organizations.errors import LastOwnerError
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.services import membership_end, membership_remove

Role = Membership.Role


def _members_of(organization_id: int) -> list[Membership]:
    # Every membership of the organization, locked: nobody joins, leaves or changes role while
    # the last-owner rule is decided.
    return list(
        Membership.objects.select_for_update()
        .filter(organization_id=organization_id)
        .order_by("pk")
        .only("pk", "role", "user_id")
    )


def user_delete(*, user, actor: Actor) -> None:
    """Delete a person: each membership ends as `membership_remove` ends it (tokens revoked at
    the servers after commit, an audit event in each organization). Refused, with nothing
    changed, when they are the only owner of an organization that has other members."""
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user.pk).first()
        if user is None:
            return  # deleted meanwhile
        memberships = list(
            Membership.objects.select_related("organization", "user")
            .filter(user=user)
            .order_by("organization_id")
        )
        alone = set()
        for membership in memberships:
            members = _members_of(membership.organization_id)
            owners = [m.pk for m in members if m.role == Role.OWNER]
            if len(members) == 1:
                alone.add(membership.pk)
            elif owners == [membership.pk]:
                raise LastOwnerError(
                    f"{user.email} is the only owner of {membership.organization.name}, "
                    "which has other members; make someone else an owner there first."
                )
        for membership in memberships:
            if membership.pk in alone:
                # The only member: nobody is left without an owner (and its rows are locked).
                membership_end(membership=membership, actor=actor)
            else:
                membership_remove(membership=membership, actor=actor)
        user.delete()
