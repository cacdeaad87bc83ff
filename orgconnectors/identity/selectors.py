"""Reads of what the identity provider provisioned, always starting from the organization."""

import uuid

from django.http import Http404

from orgconnectors.identity.errors import ScimError
from orgconnectors.identity.models import ScimGroup, ScimUser
from orgconnectors.organizations.models import Organization


def _as_uuid(value: str, kind: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ScimError(f"There is no {kind} {value!r}.", status=404) from None


def scim_user_get(*, organization: Organization, scim_id: str) -> ScimUser:
    found = (
        ScimUser.objects.select_related("user")
        .prefetch_related("groups")
        .filter(organization=organization, pk=_as_uuid(scim_id, "user"))
        .first()
    )
    if found is None:
        raise ScimError(f"There is no user {scim_id!r}.", status=404)
    return found


def scim_users_of(*, organization: Organization):
    return ScimUser.objects.filter(organization=organization).prefetch_related("groups")


def scim_group_get(*, organization: Organization, scim_id: str) -> ScimGroup:
    """A group the identity provider provisioned: a dashboard group is not the provider's to
    read or change, so it answers as absent."""
    found = scim_groups_of(organization=organization).filter(pk=_as_uuid(scim_id, "group")).first()
    if found is None:
        raise ScimError(f"There is no group {scim_id!r}.", status=404)
    return found


def scim_groups_of(*, organization: Organization):
    """The groups the identity provider provisioned (not those made in the dashboard)."""
    return ScimGroup.objects.filter(
        organization=organization, source=ScimGroup.Source.SCIM
    ).prefetch_related("members")


def groups_of(*, organization: Organization):
    """Every group of the organization, both kinds, with their people."""
    return ScimGroup.objects.filter(organization=organization).prefetch_related(
        "members__user", "dashboard_members__user"
    )


def group_get(*, organization: Organization, group_id) -> ScimGroup:
    """One group of the organization, either kind; absent and another organization's alike
    are a 404."""
    try:
        pk = uuid.UUID(str(group_id))
    except ValueError:
        raise Http404("No such group.") from None
    found = groups_of(organization=organization).filter(pk=pk).first()
    if found is None:
        raise Http404("No such group.")
    return found
