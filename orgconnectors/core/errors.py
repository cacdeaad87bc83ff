"""The base of every domain's error: a message written for the person who will read it.

Forms show it next to `field`; the JSON API answers `status` with
`{"code": code, "detail": message, "errors": {field: [message]}}` (api/errors.py).
"""


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str = "__all__", code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_errors(self) -> dict[str, list[str]]:
        return {self.field: [self.message]}


class NotAllowed(ServiceError):
    """The caller's role does not permit this action."""

    status = 403
    code = "forbidden"
