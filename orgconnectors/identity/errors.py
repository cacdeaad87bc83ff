from orgconnectors.core.errors import ServiceError


class ScimError(ServiceError):
    """A SCIM request the service refuses; `scim_type` is RFC 7644 §3.12's detail error keyword."""

    def __init__(self, message: str, *, status: int = 400, scim_type: str | None = None):
        super().__init__(message)
        self.status = status
        self.scim_type = scim_type
