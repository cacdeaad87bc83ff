"""The break-glass sign-in link an operator issues an owner (identity/break_glass.py). GET shows
what it will do and changes nothing (mail scanners open links); POST spends it and signs the
owner in through allauth's login flow (`perform_login`), so their second factor is still asked
for and allauth's sign-in signals and stages run as for any sign-in."""

from allauth.account.utils import perform_login
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from orgconnectors.core.actor import Actor
from orgconnectors.identity.break_glass import BreakGlassRefused, break_glass_find, break_glass_use


@never_cache
@require_http_methods(["GET", "POST"])
def break_glass(request, token):
    try:
        if request.method == "POST":
            link = break_glass_use(token=token, actor=Actor.from_request(request))
        else:
            link = break_glass_find(token=token)
    except BreakGlassRefused as refused:
        return render(
            request,
            "identity/break_glass_invalid.html",
            {"message": refused.message},
            status=refused.status,
        )
    if request.method == "GET":
        return render(request, "identity/break_glass.html", {"link": link})
    # allauth's flow (not django.contrib.auth.login) so its MFA stage asks for the owner's
    # second factor when they have one; the backend is allauth's, chosen by its adapter.
    return perform_login(
        request,
        link.user,
        redirect_url=reverse("org_home", kwargs={"slug": link.organization.slug}),
    )
