"""Member OAuth pages: send the member to the authorization server, take them back, and the
client metadata document authorization servers fetch."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from orgconnectors.connectors.selectors import connector_get
from orgconnectors.core.actor import Actor
from orgconnectors.oauth import services
from orgconnectors.oauth.clients import metadata_document
from orgconnectors.oauth.errors import AuthorizationRefused, OAuthError
from orgconnectors.oauth.handoff import to_authorization_server
from orgconnectors.oauth.issuer_pins import connector_oauth_issuer_confirm
from orgconnectors.oauth.selectors import metadata_document_client
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership

Role = Membership.Role


def browser_session_key(request) -> str:
    """The browser session an authorization is bound to; created if the browser has none yet."""
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


@require_POST
@org_view(Role.OWNER, Role.MEMBER)
def connection_authorize(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    try:
        url = services.oauth_authorization_start(
            membership=membership,
            connector=connector,
            session_key=browser_session_key(request),
            actor=Actor.from_request(request),
        )
    except OAuthError as failure:
        messages.error(request, f"{connector.name}: {failure.message}")
        return redirect("my_connectors", slug=membership.organization.slug)
    return to_authorization_server(request, url, connector_name=connector.name)


@require_POST
@org_view(Role.OWNER)
def connector_issuer_confirm(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    try:
        pin = connector_oauth_issuer_confirm(
            membership=membership,
            connector=connector,
            issuer=request.POST.get("issuer", ""),
            actor=Actor.from_request(request),
        )
    except OAuthError as failure:
        messages.error(request, f"{connector.name}: {failure.message}")
    else:
        messages.success(
            request,
            f"{connector.name}'s OAuth client is now sent to {pin.issuer} only.",
        )
    return redirect(
        "connector_detail", slug=membership.organization.slug, connector_id=connector.pk
    )


@never_cache
@require_GET
@login_required
def oauth_callback(request, issuer_key: str = ""):
    params = request.GET
    try:
        connection = services.oauth_callback_complete(
            state=params.get("state", ""),
            code=params.get("code", ""),
            error=params.get("error", ""),
            iss=params.get("iss"),
            callback_key=issuer_key,
            user=request.user,
            session_key=request.session.session_key,
            actor=Actor.from_request(request),
        )
    except AuthorizationRefused as refused:
        context = {
            "title": refused.title,
            "message": refused.message,
            "what_to_do": refused.what_to_do,
        }
        return render(request, "oauth/callback_error.html", context, status=400)
    except OAuthError as failure:
        context = {
            "title": "Authorization failed",
            "message": failure.message,
            "what_to_do": "Go back to My connectors and choose Authorize to try again.",
        }
        return render(request, "oauth/callback_error.html", context, status=400)
    messages.success(request, f"{connection.connector.name} is connected.")
    return redirect("my_connectors", slug=connection.membership.organization.slug)


@require_GET
def client_metadata(request, pk):
    # Public on purpose: authorization servers fetch it to learn who the client is.
    return JsonResponse(metadata_document(metadata_document_client(pk=pk)))
