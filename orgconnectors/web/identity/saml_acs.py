"""allauth's SAML "finish ACS" view, with a malformed response refused (400) instead of a 500.

python3-saml parses a posted response with its hardened parser: text that is not XML raises
lxml's XMLSyntaxError, and a DTD or entity (billion laughs, an external entity) raises
DTDForbidden or EntitiesForbidden, which are ValueErrors. allauth's view catches only
binascii.Error and OneLogin_Saml2_Error, so those would end as server errors. The view itself is
allauth's, called as is; only those exceptions are answered here.
"""

import logging

from allauth.socialaccount.providers.saml import views as allauth_saml
from django.shortcuts import render
from lxml import etree
from onelogin.saml2.xmlparser import DTDForbidden, EntitiesForbidden, NotSupportedError

from orgconnectors.organizations.models import Organization

logger = logging.getLogger(__name__)

MALFORMED = (etree.LxmlError, DTDForbidden, EntitiesForbidden, NotSupportedError)


def finish_acs(request, organization_slug: str):
    try:
        return allauth_saml.finish_acs(request, organization_slug=organization_slug)
    except MALFORMED as malformed:
        logger.warning(
            "SAML response for %s refused: not a well-formed SAML document (%s)",
            organization_slug,
            type(malformed).__name__,
        )
        return render(
            request,
            "identity/sso_refused.html",
            {
                "organization": Organization.objects.filter(slug=organization_slug).first(),
                "message": (
                    "Single sign-on did not complete: the identity provider's answer is not a "
                    "well-formed SAML response. Try again, or ask an owner to check the identity "
                    "provider's settings on the Sign-in page."
                ),
            },
            status=400,
        )
