"""The signed digests of the audit trail as the API hands them out."""

from ninja import Field, Schema


class AuditPublicKeyOut(Schema):
    algorithm: str = Field(description="Always Ed25519.")
    key_id: str = Field(description="The first 16 hex characters of the key's SHA-256.")
    public_key: str = Field(description="The raw 32-byte public key, base64.")
    public_key_pem: str
    how_to_verify: str


class AuditDigestOut(Schema):
    id: int
    organization_id: int
    from_seq: int = Field(description="The position of the first event this digest covers.")
    seq: int = Field(description="The position of the chain's last event when it was signed.")
    last_event_id: int
    head_hash: str = Field(description="The hash of that event: the head of the chain.")
    leaves: str = Field(
        description="The first 8 bytes of each covered event's hash, in order, base64."
    )
    signed_at: str
    key_id: str
    signature: str = Field(description="Ed25519 over the UTF-8 bytes of signed_message, base64.")
    signed_message: str
    requested_by: str


class AuditDigestsOut(Schema):
    organization: str
    public_key: AuditPublicKeyOut
    digests: list[AuditDigestOut] = Field(description="Newest first.")


class AuditDigestQuery(Schema):
    limit: int = Field(100, ge=1, le=1000)
