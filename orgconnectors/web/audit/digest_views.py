"""The signed digests in the auditor's area: the list, a button to sign one now, the download."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from orgconnectors.audit.signing import SETTING, signing_key
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership
from orgconnectors.reports.digests import DigestsOff, audit_digest_publish, audit_digests_download
from orgconnectors.reports.models import AuditDigest

Role = Membership.Role
SHOWN = 50


@require_http_methods(["GET", "POST"])
@org_view(Role.OWNER, Role.AUDITOR)
def audit_digests(request, membership):
    organization = membership.organization
    if request.method == "POST":
        try:
            digest = audit_digest_publish(
                organization=organization, actor=Actor.from_request(request)
            )
        except DigestsOff as off:
            messages.error(request, off.message)
        else:
            messages.success(
                request, f"Signed: the trail through event {digest.last_event_id} is in digest "
                f"{digest.pk}."
            )  # fmt: skip
        return redirect("audit_digests", slug=organization.slug)
    key = signing_key()
    digests = AuditDigest.objects.filter(organization=organization).order_by("-seq", "-id")
    context = {"digests": digests[:SHOWN], "key": key, "setting": SETTING}
    return render(request, "audit/digests.html", context)


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def audit_digests_json(request, membership):
    organization = membership.organization
    try:
        body = audit_digests_download(organization=organization, limit=1000)
    except DigestsOff as off:
        messages.error(request, off.message)
        return redirect("audit_digests", slug=organization.slug)
    response = HttpResponse(json.dumps(body, indent=2), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="{organization.slug}-audit-digests.json"'
    )
    return response
