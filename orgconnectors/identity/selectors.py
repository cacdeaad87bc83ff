"""Reads of what the identity provider provisioned, always starting from the organization."""

import uuid

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
    found = (
        ScimGroup.objects.prefetch_related("members")
        .filter(organization=organization, pk=_as_uuid(scim_id, "group"))
        .first()
    )
    if found is None:
        raise ScimError(f"There is no group {scim_id!r}.", status=404)
    return found


def scim_groups_of(*, organization: Organization):
    return ScimGroup.objects.filter(organization=organization).prefetch_related("members")
