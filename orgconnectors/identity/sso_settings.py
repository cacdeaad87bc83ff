"""An organization's identity provider for sign-in: configured (OpenID Connect or SAML 2.0) and
removed by an owner, each audited without the client secret.

The provider's discovery document or metadata is read through the egress module before the
transaction, so a slow provider never holds the organization's rows locked."""

import json

import httpx
from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.egress.client import build_client
from orgconnectors.egress.guard import EgressError, EgressRefused, check_url
from orgconnectors.encryption import encrypt
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.saml_metadata import SamlEntityChoiceError, saml_metadata_read
from orgconnectors.organizations.models import Membership, Organization

Protocol = SingleSignOn.Protocol
JIT_ROLES = (Membership.Role.MEMBER, Membership.Role.AUDITOR)
DISCOVERY_PATH = "/.well-known/openid-configuration"
_REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")
# The API and the Sign-in form call the identity provider's entity id `saml_idp_entity_id`:
# their `saml_entity_id` is orgconnectors' own (the service provider's), shown to register.
IDP_ENTITY_ID_FIELD = "saml_idp_entity_id"
MAX_ENTITY_ID_LENGTH = SingleSignOn._meta.get_field("saml_entity_id").max_length


class SsoError(ServiceError):
    pass


def issuer_normalized(issuer: str) -> str:
    """The issuer as owners may paste it: with or without the discovery path or a final "/"."""
    issuer = (issuer or "").strip()
    if issuer.endswith(DISCOVERY_PATH):
        issuer = issuer.removesuffix(DISCOVERY_PATH)
    return issuer.rstrip("/")


def oidc_discovery_read(issuer: str) -> dict:
    """The provider's discovery document, checked: it names this issuer and the endpoints a
    sign-in needs. Raises SsoError with a sentence for each way it can be wrong."""
    if not issuer:
        raise SsoError("Give the identity provider's issuer URL.", field="issuer")
    try:
        check_url(issuer)
    except EgressRefused as refused:
        raise SsoError(f"The issuer URL cannot be used: {refused}.", field="issuer") from None
    url = issuer + DISCOVERY_PATH
    try:
        with build_client() as client:
            response = client.get(url, headers={"Accept": "application/json"})
    except EgressRefused as refused:
        raise SsoError(f"The issuer cannot be reached: {refused}.", field="issuer") from None
    except (EgressError, httpx.HTTPError) as failed:
        raise SsoError(
            f"The issuer's discovery document at {url} could not be read: "
            f"{failed or type(failed).__name__}.",
            field="issuer",
        ) from None
    if response.status_code != 200:
        raise SsoError(
            f"The issuer's discovery document at {url} answered HTTP {response.status_code}; "
            "check the issuer URL.",
            field="issuer",
        )
    try:
        document = json.loads(response.content)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SsoError(
            f"{url} is not an OpenID Connect discovery document (not JSON).", field="issuer"
        )
    announced = document.get("issuer")
    if not isinstance(announced, str) or announced.rstrip("/") != issuer:
        raise SsoError(
            f"The discovery document names the issuer {str(announced)[:200]!r}, not {issuer!r}; "
            "use the issuer URL exactly as the identity provider states it.",
            field="issuer",
        )
    missing = [name for name in _REQUIRED_ENDPOINTS if not document.get(name)]
    if missing:
        raise SsoError(
            f"The discovery document has no {', '.join(missing)}, which sign-in needs.",
            field="issuer",
        )
    return document


def _default_role(value: str | None, current: str) -> str:
    role = (value or current or Membership.Role.MEMBER).strip()
    if role == Membership.Role.OWNER:
        raise SsoError(
            "People who join at their first sign-in cannot be owners: anyone the identity "
            "provider admits would control the organization. Choose member or auditor, and "
            "make owners by hand.",
            field="default_role",
        )
    if role not in JIT_ROLES:
        raise SsoError(
            f"{role[:40]!r} is not a role; choose member or auditor.", field="default_role"
        )
    return role


def _as_audit(sso: SingleSignOn) -> dict:
    """What the audit trail keeps of the settings: never the secret, only whether one is set."""
    return {
        "protocol": sso.protocol,
        "issuer": sso.issuer,
        "client_id": sso.client_id,
        "has_client_secret": bool(sso.client_secret_encrypted),
        "metadata_url": sso.metadata_url,
        "metadata_xml": "(pasted)" if sso.metadata_xml and not sso.metadata_url else "",
        "saml_entity_id": sso.saml_entity_id,
        "default_role": sso.default_role,
    }


def sso_configure(
    *,
    organization: Organization,
    protocol: str,
    issuer: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    metadata_url: str | None = None,
    metadata_xml: str | None = None,
    saml_entity_id: str | None = None,
    default_role: str | None = None,
    actor: Actor,
) -> SingleSignOn:
    """Store the organization's identity provider. SAML: `saml_entity_id` chooses the identity
    provider when the metadata lists several (a federation's aggregate); the one chosen, or the
    only one listed, is stored so that the daily refresh keeps following it."""
    current = SingleSignOn.objects.filter(organization=organization).first()
    role = _default_role(default_role, current.default_role if current else "")
    values: dict = {"protocol": protocol, "default_role": role}
    if protocol == Protocol.OIDC:
        issuer = issuer_normalized(issuer or "")
        client_id = (client_id or "").strip()
        if not client_id or len(client_id) > 255:
            raise SsoError("Give the client id (at most 255 characters).", field="client_id")
        if len(issuer) > 500:
            raise SsoError("The issuer URL is longer than 500 characters.", field="issuer")
        keeps_secret = (
            not client_secret
            and current is not None
            and current.protocol == Protocol.OIDC
            and current.client_secret_encrypted
        )
        if not client_secret and not keeps_secret:
            raise SsoError("Give the client secret.", field="client_secret")
        if client_secret and len(client_secret) > 2000:
            raise SsoError(
                "The client secret is longer than 2000 characters.", field="client_secret"
            )
        oidc_discovery_read(issuer)
        values.update(
            issuer=issuer,
            client_id=client_id,
            client_secret_encrypted=(
                encrypt(client_secret) if client_secret else current.client_secret_encrypted
            ),
            metadata_url="",
            metadata_xml="",
            metadata_fetched_at=None,
            saml_entity_id="",
        )
    elif protocol == Protocol.SAML:
        metadata_url = (metadata_url or "").strip() or None
        metadata_xml = (metadata_xml or "").strip() or None
        if not metadata_url and not metadata_xml:
            raise SsoError(
                "Give the identity provider's metadata URL or its XML.", field="metadata_url"
            )
        saml_entity_id = (saml_entity_id or "").strip() or None
        if saml_entity_id and len(saml_entity_id) > MAX_ENTITY_ID_LENGTH:
            raise SsoError(
                f"The identity provider's entity id is longer than {MAX_ENTITY_ID_LENGTH} "
                "characters.",
                field=IDP_ENTITY_ID_FIELD,
            )
        try:
            metadata = saml_metadata_read(
                url=metadata_url, xml=metadata_xml, entity_id=saml_entity_id
            )
        except SamlEntityChoiceError as choice:
            choice.field = IDP_ENTITY_ID_FIELD
            raise
        values.update(
            issuer="",
            client_id="",
            client_secret_encrypted="",
            metadata_url=metadata_url or "",
            metadata_xml=metadata.xml,
            metadata_fetched_at=timezone.now(),
            saml_entity_id=metadata.entity_id,
        )
    else:
        raise SsoError(
            f"{str(protocol)[:40]!r} is not a protocol; choose oidc or saml.", field="protocol"
        )
    with transaction.atomic():
        sso = SingleSignOn.objects.select_for_update().filter(organization=organization).first()
        before = _as_audit(sso) if sso else None
        if sso is None:
            sso = SingleSignOn(organization=organization)
        for name, value in values.items():
            setattr(sso, name, value)
        sso.save()
        after = _as_audit(sso)
        changes = {
            name: {"before": (before or {}).get(name), "after": value}
            for name, value in after.items()
            if before is None or before.get(name) != value
        }
        audit_record(
            organization=organization,
            actor=actor,
            action="sso.configured",
            target=sso,
            changes=changes,
        )
    return sso


def sso_remove(*, organization: Organization, actor: Actor) -> None:
    """Single sign-on off: people sign in with their password again (accounts made by SSO have
    none: they set one through "Forgot your password?"). Harmless when it is already off."""
    with transaction.atomic():
        sso = SingleSignOn.objects.select_for_update().filter(organization=organization).first()
        if sso is None:
            return  # already off: nothing to record
        audit_record(
            organization=organization,
            actor=actor,
            action="sso.removed",
            target=sso,
            changes={name: {"before": v, "after": None} for name, v in _as_audit(sso).items()},
        )
        sso.delete()
