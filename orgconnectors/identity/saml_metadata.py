"""A SAML 2.0 identity provider's metadata: read from its URL (through the egress module only)
or as pasted, checked, and turned into the settings of allauth's `saml` app.

allauth could fetch the metadata itself (`idp.metadata_url`), with `requests`, to any address,
unbounded in size; so it is never given a URL. The metadata is read here, stored on the
`SingleSignOn` row, and `saml_app_settings` hands allauth what it holds (entity id, sign-in URL,
certificate).

Parsing goes through python3-saml's hardened lxml parser, which refuses any DTD (so no entity
expansion, "billion laughs", and no external entity that would read a file or a URL).
"""

import base64
import binascii
import xml.parsers.expat
from dataclasses import dataclass

import httpx
from cryptography import x509
from django.conf import settings
from django.urls import reverse
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Saml
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML
from onelogin.saml2.xmlparser import DTDForbidden, EntitiesForbidden, NotSupportedError

from orgconnectors.core.errors import ServiceError
from orgconnectors.egress import EgressError, EgressRefused, ResponseTooLarge, build_client

# An organization's IdP publishes one entity, a few kilobytes (Entra's is about 20 KB with its
# signature); a federation's aggregate of thousands of entities is not what an owner means.
MAX_METADATA_BYTES = 1024 * 1024
FETCH_DEADLINE_SECONDS = 10.0

_MD = Saml.NS_MD
_DS = Saml.NS_DS
# allauth (python3-saml's `auth.login`) sends its AuthnRequest by HTTP-Redirect only.
_SSO_BINDING = Saml.BINDING_HTTP_REDIRECT
_SLO_BINDING = Saml.BINDING_HTTP_REDIRECT


class SamlMetadataError(ServiceError):
    """Metadata that cannot be used, with a sentence for the owner who gave it."""


class SamlEntityChoiceError(SamlMetadataError):
    """The metadata is usable but the identity provider's entity id must be chosen (it lists
    several) or was chosen wrong (it lists no provider with that id): the owner fixes the
    choice, not the metadata."""


# How many entity ids a refusal names, so that the sentence stays readable.
NAMED_ENTITY_IDS = 10


@dataclass(frozen=True)
class SamlIdpMetadata:
    entity_id: str
    sso_url: str
    slo_url: str
    # Base64 DER, without whitespace or PEM armour (as python3-saml wants them); signing first.
    x509_certs: tuple[str, ...]
    # The metadata as stored: the document read, or the chosen entity alone when the document
    # described several identity providers.
    xml: str


def saml_metadata_read(
    *, url: str | None = None, xml: str | None = None, entity_id: str | None = None
) -> SamlIdpMetadata:
    """The identity provider described at `url` (fetched through the egress module) or by
    `xml`; raises SamlMetadataError saying what is wrong. `entity_id` chooses one provider
    in a document that describes several."""
    url, xml = (url or "").strip() or None, (xml or "").strip() or None
    if url is not None and xml is not None:
        raise SamlMetadataError(
            "Give the identity provider's metadata URL or its XML, not both.", field="metadata_url"
        )
    if url is None and xml is None:
        raise SamlMetadataError(
            "Give the identity provider's metadata URL or its XML.", field="metadata_url"
        )
    if url is not None:
        field = "metadata_url"
        document = _fetch(url)
    else:
        field = "metadata_xml"
        document = xml.encode()
        if len(document) > MAX_METADATA_BYTES:
            raise SamlMetadataError(_too_large(), field=field)
    try:
        return _parse(document, entity_id=entity_id)
    except SamlMetadataError as error:
        error.field = field
        raise


def saml_metadata_from_stored(xml: str) -> SamlIdpMetadata:
    """The metadata stored on a SingleSignOn row (it was checked when it was stored)."""
    return _parse(xml.encode(), entity_id=None)


def _too_large() -> str:
    return (
        f"The metadata is larger than {MAX_METADATA_BYTES // 1024} KB; an identity provider's "
        "own metadata is a few kilobytes (give its URL, not a federation's aggregate)."
    )


def _fetch(url: str) -> bytes:
    field = "metadata_url"
    try:
        with build_client(
            max_response_bytes=MAX_METADATA_BYTES,
            deadline=FETCH_DEADLINE_SECONDS,
            headers={"Accept": "application/samlmetadata+xml, application/xml, text/xml"},
        ) as http:
            response = http.get(url)
            body = response.content
    except ResponseTooLarge:
        raise SamlMetadataError(_too_large(), field=field) from None
    except EgressRefused as refused:
        raise SamlMetadataError(
            f"The metadata URL cannot be used: {refused}.", field=field
        ) from None
    except (EgressError, httpx.HTTPError) as failed:
        why = str(failed) or type(failed).__name__
        raise SamlMetadataError(
            f"The metadata could not be fetched from {url}: {why}.", field=field
        ) from None
    if response.status_code != 200:
        raise SamlMetadataError(
            f"The metadata URL answered HTTP {response.status_code}, not the metadata.",
            field=field,
        )
    return body


_DTD_REFUSED = (
    "The metadata declares a DTD or XML entities, which are refused: they can expand into "
    "gigabytes or read local files, and SAML metadata never needs them."
)


class _DeclaresDtd(Exception):
    pass


def _refuse_dtd(document: bytes) -> None:
    """Stop at the first DOCTYPE, before any entity is declared, let alone expanded.

    python3-saml's parser refuses a DTD too, but only after lxml has read it, so a document
    with one ends in an lxml error about entities rather than this sentence. Expat reports the
    DOCTYPE as soon as it starts, in whatever encoding the document is written."""

    def declared(*_args) -> None:
        raise _DeclaresDtd

    parser = xml.parsers.expat.ParserCreate()
    parser.StartDoctypeDeclHandler = declared
    parser.EntityDeclHandler = declared
    try:
        parser.Parse(document, True)
    except _DeclaresDtd:
        raise SamlMetadataError(_DTD_REFUSED) from None
    except xml.parsers.expat.ExpatError:
        pass  # not well-formed: lxml's parse below says where


def _parse(document: bytes, *, entity_id: str | None) -> SamlIdpMetadata:
    _refuse_dtd(document)
    try:
        root = OneLogin_Saml2_XML.to_etree(document)
    except (DTDForbidden, EntitiesForbidden, NotSupportedError):
        raise SamlMetadataError(_DTD_REFUSED) from None
    except etree.XMLSyntaxError as error:
        raise SamlMetadataError(f"The metadata is not well-formed XML ({error}).") from None
    entity = _identity_provider(root, entity_id)
    descriptor = entity.find(f"{{{_MD}}}IDPSSODescriptor")
    chosen_id = entity.get("entityID", "").strip()
    if not chosen_id:
        raise SamlMetadataError("The identity provider's EntityDescriptor has no entityID.")
    sso_url = _location(descriptor, "SingleSignOnService", _SSO_BINDING)
    if not sso_url:
        posted = _location(descriptor, "SingleSignOnService", Saml.BINDING_HTTP_POST)
        raise SamlMetadataError(
            "The identity provider's metadata has no sign-in URL for the HTTP-Redirect binding"
            + (
                " (only HTTP-POST, which this service provider does not send requests with)."
                if posted
                else "."
            )
        )
    certs = _signing_certificates(descriptor)
    if not certs:
        raise SamlMetadataError(
            "The identity provider's metadata has no signing certificate, so its responses "
            "could not be verified."
        )
    xml = document.decode("utf-8", errors="replace")
    if entity is not root:
        xml = etree.tostring(entity, encoding="unicode")
    return SamlIdpMetadata(
        entity_id=chosen_id,
        sso_url=sso_url,
        slo_url=_location(descriptor, "SingleLogoutService", _SLO_BINDING),
        x509_certs=tuple(certs),
        xml=xml,
    )


def _identity_provider(root, entity_id: str | None):
    """The one EntityDescriptor with an IDPSSODescriptor (or the one named `entity_id`)."""
    if root.tag == f"{{{_MD}}}EntityDescriptor":
        entities = [root]
    elif root.tag == f"{{{_MD}}}EntitiesDescriptor":
        entities = list(root.iter(f"{{{_MD}}}EntityDescriptor"))
    else:
        raise SamlMetadataError(
            "The document is XML but not SAML metadata (no EntityDescriptor at its root)."
        )
    providers = [e for e in entities if e.find(f"{{{_MD}}}IDPSSODescriptor") is not None]
    if entity_id is not None:
        # Compared here, never put into an XPath expression.
        providers = [e for e in providers if e.get("entityID") == entity_id]
        if not providers:
            raise SamlEntityChoiceError(
                f"The metadata describes no identity provider with the entity id {entity_id}."
            )
    if not providers:
        raise SamlMetadataError(
            "The metadata describes no identity provider (no IDPSSODescriptor): is it a service "
            "provider's metadata?"
        )
    if len(providers) > 1:
        names = ", ".join(e.get("entityID", "?") for e in providers[:NAMED_ENTITY_IDS])
        if len(providers) > NAMED_ENTITY_IDS:
            names += f", and {len(providers) - NAMED_ENTITY_IDS} more"
        raise SamlEntityChoiceError(
            f"The metadata describes {len(providers)} identity providers ({names}); choose "
            "one entity id, or give the metadata of your organization's provider alone."
        )
    return providers[0]


def _location(descriptor, element: str, binding: str) -> str:
    for service in descriptor.findall(f"{{{_MD}}}{element}"):
        if service.get("Binding") == binding and service.get("Location", "").strip():
            return service.get("Location").strip()
    return ""


def _signing_certificates(descriptor) -> list[str]:
    certs: list[str] = []
    for key in descriptor.findall(f"{{{_MD}}}KeyDescriptor"):
        if key.get("use", "signing") != "signing":
            continue  # use="encryption" keys do not sign; no `use` means both
        for node in key.iter(f"{{{_DS}}}X509Certificate"):
            cert = "".join((node.text or "").split())
            _check_certificate(cert)
            if cert not in certs:
                certs.append(cert)
    return certs


def _check_certificate(cert: str) -> None:
    try:
        x509.load_der_x509_certificate(base64.b64decode(cert, validate=True))
    except (binascii.Error, ValueError):
        raise SamlMetadataError(
            "A signing certificate in the identity provider's metadata cannot be read as an "
            "X.509 certificate."
        ) from None


# What people's attributes are called by the common identity providers: SAML's own OIDs (and
# Keycloak's "URI" format), Microsoft Entra ID's claim URIs, and the short names Okta, Google
# Workspace and Keycloak use by default. The first one a response carries wins.
ATTRIBUTE_MAPPING = {
    # A stable id when the provider sends one; otherwise allauth falls back to the NameID.
    "uid": [
        "urn:oasis:names:tc:SAML:attribute:subject-id",
        "http://schemas.microsoft.com/identity/claims/objectidentifier",
    ],
    "email": [
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "http://schemas.xmlsoap.org/claims/EmailAddress",
        "email",
        "mail",
        "emailAddress",
        "Email",
    ],
    "first_name": [
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "firstName",
        "givenName",
        "first_name",
        "FirstName",
    ],
    "last_name": [
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "lastName",
        "sn",
        "surname",
        "last_name",
        "LastName",
    ],
}

NAME_ID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def saml_sp_entity_id(slug: str) -> str:
    """Our entity id for the organization: the URL of our metadata, from the configured base
    URL (not the request's Host header, which would make it vary)."""
    base = settings.ORGCONNECTORS_BASE_URL.rstrip("/")
    return base + reverse("saml_metadata", kwargs={"organization_slug": slug})


def saml_app_settings(sso) -> dict:
    """The `settings` of the allauth `saml` app of this SingleSignOn (a row with protocol
    "saml"), built from its stored metadata so that allauth never fetches any."""
    idp = saml_metadata_from_stored(sso.metadata_xml)
    # allauth takes one certificate: the first signing one the provider lists (a rollover's
    # new certificate is read by the daily refresh once the provider lists it first).
    idp_settings = {
        "entity_id": idp.entity_id,
        "sso_url": idp.sso_url,
        "x509cert": idp.x509_certs[0],
    }
    if idp.slo_url:
        idp_settings["slo_url"] = idp.slo_url
    return {
        "idp": idp_settings,
        "sp": {"entity_id": saml_sp_entity_id(sso.organization.slug)},
        "attribute_mapping": ATTRIBUTE_MAPPING,
        # No email attribute: allauth reads the address from an emailAddress NameID (the
        # format asked for below), as Google Workspace sends it by default.
        "advanced": {
            "strict": True,
            # The assertion is what names the person; an unsigned one could be anyone's.
            "want_assertion_signed": True,
            "want_name_id": True,
            # Some providers (Google's default) send the email as NameID and no attributes.
            "want_attribute_statement": False,
            "name_id_format": NAME_ID_EMAIL,
            "reject_deprecated_algorithm": True,
            # IdP-initiated SAML answers no request of ours: nothing binds the response to the
            # browser presenting it (no InResponseTo, no stashed state), so a response stolen
            # or injected into another person's browser would sign them in (login CSRF). People
            # start at our login page, which sends them to the provider. (python3-saml has no
            # `allow_unsolicited` switch as pysaml2 does: an unsolicited response is exactly an
            # IdP-initiated one, refused here; one answering another request finds no state.)
            "reject_idp_initiated_sso": True,
        },
    }
