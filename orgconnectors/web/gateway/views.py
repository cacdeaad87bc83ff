"""The gateway's pages: the consent page of its authorization server, the organization's choice
of how members' apps reach servers, and "Add to Claude" for owners."""

from urllib.parse import urlparse

from allauth.idp.oidc import views as oidc_views
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from orgconnectors.connectors.selectors import connectors_of
from orgconnectors.core.actor import Actor
from orgconnectors.gateway.authorization.consent import ConsentRefused, consent_reach
from orgconnectors.gateway.authorization.endpoints import endpoint_of
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.mfa import (
    mfa_missing,
    mfa_missing_message,
    mfa_session_message,
    mfa_session_missing,
)
from orgconnectors.organizations.models import Membership, Organization
from orgconnectors.organizations.organization_settings import organization_settings_update

Role = Membership.Role

# Our templates/idp/oidc/error.html carries this marker: allauth renders its errors (an unknown
# client, a redirect URI not registered...) with status 200, and the page is re-answered as 400.
_ERROR_MARKER = b'data-oauth-error="1"'


def _refused(request, message: str, status: int) -> HttpResponse:
    return render(request, "gateway/refused.html", {"message": message}, status=status)


def _pkce_refusal(params) -> str | None:
    if not params.get("code_challenge"):
        return (
            "The application did not use PKCE (no `code_challenge`): this server requires it "
            "with the S256 method. Update the application, or ask its maker to."
        )
    if params.get("code_challenge_method") != "S256":
        return (
            "The application asked for the PKCE method "
            f"“{params.get('code_challenge_method') or 'plain'}”: this server requires S256."
        )
    return None


def _two_factor_refusal(request, reach) -> str | None:
    """An owner of an organization that requires two-factor authentication grants only from a
    session that passed it, as on the organization's own pages."""
    for item in reach:
        if mfa_missing(item.membership):
            return mfa_missing_message(item.membership)
        if mfa_session_missing(item.membership, request):
            return mfa_session_message(item.membership)
    return None


class ConsentView(oidc_views.AuthorizationView):
    """allauth's authorization endpoint with the dashboard's consent page. Before allauth looks
    at the request: PKCE with S256, at least one `resource`, and a signed-in member of the
    organization each resource belongs to; the page names the connectors and their tools."""

    template_name = "gateway/consent.html"

    def get(self, request, *args, **kwargs):
        refusal = _pkce_refusal(request.GET)
        if refusal:
            return _refused(request, refusal, 400)
        resources = request.GET.getlist("resource")
        if request.user.is_authenticated and "login" not in request.GET.get("prompt", "").split():
            try:
                reach = consent_reach(user=request.user, resources=resources)
            except ConsentRefused as refused:
                return _refused(request, refused.message, refused.status)
            refusal = _two_factor_refusal(request, reach)
            if refusal:
                return _refused(request, refusal, 403)
        elif not resources:
            return _refused(
                request,
                "The application did not say which gateway endpoint it wants (the `resource` "
                "parameter); add the endpoint's URL as the MCP server in the application.",
                400,
            )
        response = self._with_error_status(super().get(request, *args, **kwargs))
        if response.status_code == 200:
            self._allow_the_redirect_back(response)
        return response

    def _allow_the_redirect_back(self, response: HttpResponse) -> None:
        # Allow answers with a redirect to the client's redirect URI; browsers hold the form's
        # redirects to the page's CSP form-action ('self' elsewhere on the dashboard).
        redirect_uri = urlparse(self._request_info.get("redirect_uri") or "")
        if redirect_uri.scheme and redirect_uri.netloc:
            origin = f"{redirect_uri.scheme}://{redirect_uri.netloc}"
        elif redirect_uri.scheme:
            origin = f"{redirect_uri.scheme}:"
        else:
            return
        response._csp_update = {"form-action": [origin]}

    def post(self, request, *args, **kwargs):
        return self._with_error_status(super().post(request, *args, **kwargs))

    def form_valid(self, form):
        # Granting again checks the member: the page may have stayed open while they left.
        try:
            reach = consent_reach(
                user=self.request.user, resources=self._request_info.get("resources")
            )
        except ConsentRefused as refused:
            return _refused(self.request, refused.message, refused.status)
        refusal = _two_factor_refusal(self.request, reach)
        if refusal:
            return _refused(self.request, refusal, 403)
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reach"] = consent_reach(
            user=self.request.user, resources=self._request_info.get("resources")
        )
        # Anyone may register a client under any name: where Allow sends the member tells them
        # which application really asks.
        redirect_uri = urlparse(self._request_info.get("redirect_uri") or "")
        context["redirect_to"] = redirect_uri.netloc or f"{redirect_uri.scheme}:"
        return context

    @staticmethod
    def _with_error_status(response: HttpResponse) -> HttpResponse:
        if getattr(response, "is_rendered", True) is False:
            response.render()
        if response.status_code == 200 and _ERROR_MARKER in response.content:
            response.status_code = 400
        return response


consent = ConsentView.as_view()


def _https_base_url() -> bool:
    return settings.ORGCONNECTORS_BASE_URL.startswith("https://")


@require_POST
@org_view(Role.OWNER)
def member_apps_reach(request, membership):
    chosen = request.POST.get("member_apps_reach", "")
    try:
        organization = organization_settings_update(
            organization=membership.organization,
            member_apps_reach=chosen,
            actor=Actor.from_request(request),
        )
    except OrganizationError as error:
        messages.error(request, error.message)
        return redirect("add_to_claude", slug=membership.organization.slug)
    if organization.member_apps_reach == Organization.MemberAppsReach.GATEWAY:
        messages.success(
            request,
            "Members' apps now reach servers through the gateway: their configurations name "
            "the gateway's endpoints with short-lived gateway tokens, and the servers' own "
            "tokens stay here.",
        )
    else:
        messages.success(
            request,
            "Members' apps now reach servers directly, with the servers' own tokens.",
        )
    return redirect("add_to_claude", slug=membership.organization.slug)


def _claude_name(connector) -> str:
    """A name for `claude mcp add`: letters, digits, dashes."""
    cleaned = "".join(c if c.isalnum() else "-" for c in connector.name.lower()).strip("-")
    return "-".join(part for part in cleaned.split("-") if part) or f"connector-{connector.pk}"


@require_GET
@org_view(Role.OWNER)
def add_to_claude(request, membership):
    organization = membership.organization
    connectors = [
        {
            "connector": connector,
            "url": endpoint_of(connector).url,
            "claude_name": _claude_name(connector),
        }
        for connector in connectors_of(organization=organization).select_related("organization")
    ]
    context = {
        "connectors": connectors,
        "https": _https_base_url(),
        "base_url": settings.ORGCONNECTORS_BASE_URL,
        "through_gateway": organization.member_apps_reach == Organization.MemberAppsReach.GATEWAY,
    }
    return render(request, "gateway/add_to_claude.html", context)
