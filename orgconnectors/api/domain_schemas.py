from datetime import datetime

from ninja import Field, Schema
from pydantic import ConfigDict

from orgconnectors.api.schemas import InputSchema


class TxtRecordOut(Schema):
    name: str = Field(description="Where to publish the TXT record.")
    value: str = Field(description="The TXT record's value.")


class ClaimedDomainOut(Schema):
    id: int
    domain: str = Field(description="Lowercase, IDNA-encoded (xn--…) for international names.")
    verified: bool
    verified_at: datetime | None
    verified_by: str = Field(description="`dns`, `operator`, or empty while unverified.")
    last_checked_at: datetime | None
    last_check_error: str = Field(description="Why the last DNS check did not verify it.")
    txt_record: TxtRecordOut = Field(description="The record that proves the claim.")


class ClaimedDomainIn(InputSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"domain": "example.com"}]})

    domain: str = Field(max_length=253, description="An email domain the organization owns.")
