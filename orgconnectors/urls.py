from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from orgconnectors.api.urls import api
from orgconnectors.ops.metrics import metrics_view
from orgconnectors.web.identity import saml_acs

# The admin signs in through allauth: its rate limits and, for staff who set one up, the second
# factor. The admin's own login page only sends the browser there.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    # allauth's own view, answering a malformed SAML response with a 400 (web/identity/saml_acs.py).
    path("accounts/saml/<str:organization_slug>/acs/finish/", saml_acs.finish_acs),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    # Each organization's SCIM 2.0 endpoint, for its identity provider (docs/identity.md).
    path("", include("orgconnectors.scim.urls")),
    path("", include("orgconnectors.web.organizations.urls")),
    path("", include("orgconnectors.web.connectors.urls")),
    path("", include("orgconnectors.web.health.urls")),
    path("", include("orgconnectors.web.oauth.urls")),
    path("", include("orgconnectors.web.audit.urls")),
    path("", include("orgconnectors.web.api_tokens.urls")),
    path("", include("orgconnectors.web.identity.urls")),
    path("", include("orgconnectors.web.messages_api.urls")),
    # The gateway's consent page first: it answers allauth's authorization path.
    path("", include("orgconnectors.web.gateway.urls")),
    path("", include("orgconnectors.gateway.authorization.urls")),
]
