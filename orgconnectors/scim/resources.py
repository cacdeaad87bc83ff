"""Between SCIM's resources (scim2-models) and what the identity app stores: the request
parsed into the service's plain values, the stored rows rendered as resources, and what the
service provider announces (RFC 7643 §5-7)."""

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Group,
    Meta,
    Patch,
    ResourceType,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models import (
    Pagination as PaginationSupport,
)

from orgconnectors.identity.models import ScimGroup, ScimUser
from orgconnectors.identity.services import ScimPerson, ScimTeam

# The most resources one page carries; a provider asking for more gets this many.
MAX_RESULTS = 200
_NOT_STORED = ("id", "meta", "groups", "password")


def _document(resource, ctx: Context) -> dict[str, Any]:
    document = resource.model_dump(scim_ctx=ctx)
    for key in _NOT_STORED:
        document.pop(key, None)
    return document


def person_from(user: User, ctx: Context) -> ScimPerson:
    emails = sorted(user.emails or [], key=lambda email: not email.primary)
    return ScimPerson(
        user_name=user.user_name or "",
        external_id=user.external_id or "",
        active=user.active is not False,
        emails=[str(email.value) for email in emails if email.value],
        document=_document(user, ctx),
    )


def team_from(group: Group, ctx: Context) -> ScimTeam:
    return ScimTeam(
        display_name=group.display_name or "",
        external_id=group.external_id or "",
        member_ids=[member.value for member in group.members or [] if member.value],
        document=_document(group, ctx),
    )


def _meta(resource_type: str, row, location: str) -> dict[str, Any]:
    return {
        "resourceType": resource_type,
        "created": row.created_at.isoformat(),
        "lastModified": row.updated_at.isoformat(),
        "location": location,
        "version": f'W/"{row.version}"',
    }


def user_resource(scim_user: ScimUser, base: str) -> User:
    data = dict(scim_user.document)
    data["id"] = str(scim_user.pk)
    data["userName"] = scim_user.user_name
    data["groups"] = [
        {"value": str(group.pk), "$ref": f"{base}Groups/{group.pk}", "display": group.display_name}
        for group in scim_user.groups.all()
    ] or None
    data["meta"] = _meta("User", scim_user, f"{base}Users/{scim_user.pk}")
    return User.model_validate(data)


def group_resource(group: ScimGroup, base: str) -> Group:
    data = dict(group.document)
    sent = {entry.get("value"): entry for entry in data.pop("members", None) or []}
    members = []
    for member in group.members.all():
        entry = dict(sent.get(str(member.pk)) or {})
        entry.update(value=str(member.pk), type="User", **{"$ref": f"{base}Users/{member.pk}"})
        entry.setdefault("display", member.user_name)
        members.append(entry)
    data["id"] = str(group.pk)
    data["displayName"] = group.display_name
    data["members"] = members or None
    data["meta"] = _meta("Group", group, f"{base}Groups/{group.pk}")
    return Group.model_validate(data)


def service_provider_config(base: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=False),
        pagination=PaginationSupport(
            cursor=False, index=True, default_page_size=MAX_RESULTS, max_page_size=MAX_RESULTS
        ),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A SCIM token an owner creates on the organization's Sign-in page.",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}ServiceProviderConfig"),
    )


def resource_types(base: str) -> list[ResourceType]:
    types = []
    for model in (User, Group):
        resource_type = ResourceType.from_resource(model)
        resource_type.meta = Meta(
            resource_type="ResourceType", location=f"{base}ResourceTypes/{resource_type.id}"
        )
        types.append(resource_type)
    return types


def schemas(base: str):
    found = []
    for model in (User, Group):
        schema = model.to_schema()
        schema.meta = Meta(resource_type="Schema", location=f"{base}Schemas/{schema.id}")
        found.append(schema)
    return found
