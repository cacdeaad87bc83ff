from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who is doing something, and from where: what every service needs for its audit event."""

    user: Any = None
    label: str = ""
    ip: str | None = None
    user_agent: str = ""

    @property
    def display(self) -> str:
        if self.user is not None:
            return self.user.email
        return self.label or "system"

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
        )

    @classmethod
    def system(cls, label: str, user: Any = None) -> "Actor":
        return cls(user=user, label=label)
