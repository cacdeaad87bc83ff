"""What an audit event is about, said by the thing itself.

The audit trail sits below the apps whose objects it records, so it knows none of their models:
each audited model describes itself through `audit_target()` (its type, id and label as the trail
stores them, and the connector and member the event concerns, so the trail can be filtered by
them). What is not a model instance at hand (a connection already deleted, an export streamed
without a job) is described by an `AuditTarget` written out where it is recorded.
"""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class AuditTarget:
    type: str
    id: int | str = ""
    label: str = ""
    # The connector's id and the member's user id the event concerns, when it concerns one.
    connector_id: int | None = None
    member_user_id: int | None = None

    def audit_target(self) -> "AuditTarget":
        return self


class Audited(Protocol):
    """A model instance (or an AuditTarget) an audit event can name as its target."""

    def audit_target(self) -> AuditTarget: ...
