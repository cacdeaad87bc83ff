"""Reading a kept tool-call body: the organization's own, by the call's id; another's is a 404."""

from django.http import Http404

from orgconnectors.audit.models import ToolCallBody
from orgconnectors.organizations.models import Organization


def tool_call_body_get(*, organization: Organization, call_id: str) -> ToolCallBody:
    body = ToolCallBody.objects.filter(organization=organization, call_id=call_id).first()
    if body is None:
        raise Http404(
            "No body was kept for this call: the organization did not keep tool-call bodies "
            "when it was made, or the usage retention has purged it."
        )
    return body


def tool_call_body_json(body: ToolCallBody) -> dict:
    return {
        "call_id": body.call_id,
        "tool": body.tool,
        "created_at": body.created_at,
        "request": body.request,
        "response": body.response,
    }


def kept_body_call_ids(*, organization: Organization, call_ids) -> set[str]:
    """Which of these calls have a kept body (for the links on the usage events list)."""
    if not call_ids:
        return set()
    return set(
        ToolCallBody.objects.filter(
            organization=organization, call_id__in=list(call_ids)
        ).values_list("call_id", flat=True)
    )
