from datetime import datetime

from ninja import Field, Schema
from pydantic import ConfigDict

from orgconnectors.api.schemas import InputSchema


class GroupPersonOut(Schema):
    email: str


class GroupOut(Schema):
    id: str
    display_name: str
    source: str = Field(
        description="`scim` (the identity provider's: its people change there only) or "
        "`dashboard` (made by owners)."
    )
    role: str = Field(description="The role the group is mapped to; empty: none.")
    member_ids: list[int] = Field(
        description="The memberships (ids of /members) of a dashboard group; a SCIM group's "
        "people are listed in `people` only."
    )
    people: list[GroupPersonOut]
    created_at: datetime

    @staticmethod
    def resolve_id(group) -> str:
        return str(group.pk)

    @staticmethod
    def resolve_member_ids(group) -> list[int]:
        if not group.is_dashboard:
            return []
        return sorted(membership.pk for membership in group.dashboard_members.all())

    @staticmethod
    def resolve_people(group) -> list[dict]:
        return [{"email": user.email} for user in group.people]


class GroupCreateIn(InputSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"display_name": "Support"}]})

    display_name: str = Field(max_length=254)


class GroupMembersIn(InputSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"member_ids": [42]}]})

    member_ids: list[int] = Field(description="Ids of the organization's members (/members).")
