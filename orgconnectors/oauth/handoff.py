"""Sending the browser to an authorization server after the member's POST (Connect, Authorize).

Not with a redirect: the Content-Security-Policy's `form-action 'self'` also covers the redirects
that follow a form's submission (Chromium enforces it), so a 302 to another origin is blocked.
htmx requests get HX-Redirect (the script navigates); a plain form gets a page that goes on by
itself (Refresh) and links there for browsers that do not.
"""

from urllib.parse import urlsplit

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


def to_authorization_server(request, url: str, *, connector_name: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        # htmx would fetch the server's page into this one; the browser itself must go there.
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    context = {"url": url, "host": urlsplit(url).hostname or url, "connector_name": connector_name}
    response = render(request, "oauth/handoff.html", context)
    response["Refresh"] = f"0;url={url}"
    # The address carries the authorization's state: no cache keeps it.
    add_never_cache_headers(response)
    return response
