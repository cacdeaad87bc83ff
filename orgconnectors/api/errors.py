"""Every error the API answers, in the one shape the API promises, registered once on the API.

Whatever went wrong (invalid input, no or a rejected token, a role or scope that does not allow
it, an absent object, a limit, a rate limit), the body is
`{"code": ..., "detail": ..., "errors": {field: [message, ...]}}`: `code` for programs, `detail`
for people, `errors` by the field that caused them ("__all__" when no single field did). A few
codes add what a program needs to act on them: `limit` and `enabled` with
connection_limit_reached, `retry_after` with rate_limited, `current` ({tool: hash}) with
stale_tool_hash.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from orgconnectors.api.auth import TokenRejected
from orgconnectors.api.operator_auth import OperatorTokenRequired
from orgconnectors.connectors.errors import ConnectionLimitReached
from orgconnectors.connectors.tool_approvals import StaleToolHash
from orgconnectors.core.errors import ServiceError
from orgconnectors.reports.selectors import InvalidCursor

NON_FIELD = "__all__"
_SIGN_IN = (
    "Sign in to the dashboard, or send a personal API token as `Authorization: Bearer oc_...`."
)
_MESSAGES = {
    "extra_forbidden": "This field is not accepted here; remove it.",
    "missing": "This field is required.",
}
# Where ninja says a value came from; the caller only knows the field's name.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})


def _field(loc: tuple) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts:
            # Ninja nests the body under the endpoint's parameter name, which callers never see.
            parts.pop(0)
    return ".".join(str(part) for part in parts) or NON_FIELD


def _message(error: dict, field: str) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if field == NON_FIELD and kind == "missing":
        return "Send a JSON object as the request body."
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    if kind == "literal_error":
        return f"Choose one of {ctx['expected']}."
    if kind.startswith("date_"):
        return "Enter a date as YYYY-MM-DD."
    if kind == "int_parsing":
        return "Enter a whole number."
    if kind == "less_than_equal":
        return f"Enter a number no greater than {ctx['le']}."
    if kind == "greater_than_equal":
        return f"Enter a number no less than {ctx['ge']}."
    return _MESSAGES.get(kind, error["msg"])


def validation_errors(errors: list[dict]) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        field = _field(tuple(error["loc"]))
        by_field.setdefault(field, []).append(_message(error, field))
    return by_field


def _summary(errors: dict[str, list[str]]) -> str:
    return " ".join(
        message if field == NON_FIELD else f"{field}: {message}"
        for field, messages in errors.items()
        for message in messages
    )


def error_body(
    *,
    code: str,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    **extensions,
) -> dict:
    """The body of every error: give the sentence (`detail`), the messages by field (`errors`),
    or both; the one missing is made from the other."""
    if errors is None:
        errors = {NON_FIELD: [detail or ""]}
    if detail is None:
        detail = _summary(errors)
    return {"code": code, "detail": detail, "errors": errors, **extensions}


# The codes of errors that are not a domain's ServiceError (those carry their own `code`).
_HTTP_CODES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found"}


def register_error_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, body: dict, status: int) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(ServiceError)
    def service_error(request, exc: ServiceError):
        body = error_body(code=exc.code, detail=exc.message, errors=exc.as_errors())
        return respond(request, body, exc.status)

    @api.exception_handler(ConnectionLimitReached)
    def limit_reached(request, exc: ConnectionLimitReached):
        body = error_body(
            code=exc.code,
            detail=exc.message,
            errors=exc.as_errors(),
            limit=exc.limit,
            enabled=exc.enabled,
        )
        return respond(request, body, exc.status)

    @api.exception_handler(StaleToolHash)
    def stale_tool_hash(request, exc: StaleToolHash):
        body = error_body(
            code=exc.code, detail=exc.message, errors=exc.as_errors(), current=exc.current
        )
        return respond(request, body, exc.status)

    @api.exception_handler(Http404)
    def not_found(request, exc: Http404):
        # The same answer for absent and not-yours, so nothing leaks through the message.
        return respond(request, error_body(code="not_found", detail="Not found"), 404)

    @api.exception_handler(ValidationError)
    def invalid(request, exc: ValidationError):
        return respond(
            request, error_body(code="invalid", errors=validation_errors(exc.errors)), 400
        )

    @api.exception_handler(InvalidCursor)
    def invalid_cursor(request, exc: InvalidCursor):
        message = "This cursor is not one this server handed out; start again without it."
        return respond(request, error_body(code="invalid", errors={"cursor": [message]}), 400)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc: AuthenticationError):
        detail = str(exc) if isinstance(exc, TokenRejected | OperatorTokenRequired) else _SIGN_IN
        response = respond(request, error_body(code="unauthenticated", detail=detail), 401)
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc: RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is larger than the {limit:,} bytes the API reads; send less."
        return respond(request, error_body(code="invalid", detail=message), 400)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if exc.status_code == 400:
            # Ninja's only 400 of this kind is a body it could not parse.
            message = "The request body is not valid JSON; send a JSON object."
            if isinstance(exc.__cause__, RecursionError):
                message = "The request body is nested too deeply to read; flatten it."
            return respond(request, error_body(code="invalid", detail=message), 400)
        code = _HTTP_CODES.get(exc.status_code, "error")
        return respond(request, error_body(code=code, detail=str(exc)), exc.status_code)
