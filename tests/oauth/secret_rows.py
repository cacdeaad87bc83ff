"""One stored row of each kind that holds secrets, written directly under the current keys, and
a way to read every secret back: what the key rotation tests rewrite and check."""

from datetime import timedelta

from django.utils import timezone

from orgconnectors.connectors.models import Connector
from orgconnectors.encryption import decrypt, encrypt
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.oauth.models import (
    OAuthClient,
    OAuthCredential,
    PendingAuthorization,
    TokenRevocation,
)
from tests.factories import ConnectionFactory, ConnectorFactory, OrganizationFactory

# (model, field) of every encrypted column, as encryption.rotation finds them by their type.
COLUMNS = (
    (Connector, "oauth_client_secret_encrypted"),
    (SingleSignOn, "client_secret_encrypted"),
    (OAuthClient, "client_secret_encrypted"),
    (OAuthCredential, "access_token_encrypted"),
    (OAuthCredential, "refresh_token_encrypted"),
    (PendingAuthorization, "code_verifier_encrypted"),
    (TokenRevocation, "client_secret_encrypted"),
    (TokenRevocation, "access_token_encrypted"),
    (TokenRevocation, "refresh_token_encrypted"),
)


def store_secrets(membership, *, tag: str = "a") -> set[str]:
    """A row of each kind for `membership`, every secret encrypted under the first key now;
    the plain values."""
    plain = {f"{name}-{tag}-plain-value" for name in ("conn", "client", "at", "rt", "pkce", "sso")}
    plain |= {f"{name}-{tag}-plain-value" for name in ("rev-secret", "rev-at", "rev-rt")}
    connector = ConnectorFactory(
        organization=membership.organization,
        auth=Connector.Auth.OAUTH,
        oauth_client_id=f"by-hand-{tag}",
        oauth_client_secret_encrypted=encrypt(f"conn-{tag}-plain-value"),
    )
    client = OAuthClient.objects.create(
        connector=connector,
        issuer=f"https://issuer-{tag}.example.com",
        kind=OAuthClient.Kind.DYNAMIC,
        client_id=f"client-{tag}",
        client_secret_encrypted=encrypt(f"client-{tag}-plain-value"),
        authorization_endpoint="https://issuer.example.com/authorize",
        token_endpoint="https://issuer.example.com/token",
    )
    OAuthCredential.objects.create(
        connection=ConnectionFactory(membership=membership, connector=connector),
        client=client,
        access_token_encrypted=encrypt(f"at-{tag}-plain-value"),
        refresh_token_encrypted=encrypt(f"rt-{tag}-plain-value"),
        obtained_at=timezone.now(),
    )
    PendingAuthorization.objects.create(
        state_hash=f"state-hash-{tag}",
        user=membership.user,
        membership=membership,
        connector=connector,
        client=client,
        code_verifier_encrypted=encrypt(f"pkce-{tag}-plain-value"),
        redirect_uri="https://orgconnectors.example.com/oauth/callback",
        resource=connector.url,
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    # An organization has one single sign-on: each call's row is another organization's.
    SingleSignOn.objects.create(
        organization=OrganizationFactory(),
        protocol=SingleSignOn.Protocol.OIDC,
        issuer="https://idp.example.com",
        client_id=f"sso-{tag}",
        client_secret_encrypted=encrypt(f"sso-{tag}-plain-value"),
    )
    TokenRevocation.objects.create(
        organization=membership.organization,
        target_label=f"connection {tag}",
        revocation_endpoint="https://issuer.example.com/revoke",
        client_id=f"client-{tag}",
        client_secret_encrypted=encrypt(f"rev-secret-{tag}-plain-value"),
        access_token_encrypted=encrypt(f"rev-at-{tag}-plain-value"),
        refresh_token_encrypted=encrypt(f"rev-rt-{tag}-plain-value"),
    )
    return plain


def stored_ciphertexts() -> set[str]:
    return {
        value
        for model, field in COLUMNS
        for value in model.objects.values_list(field, flat=True)
        if value
    }


def readable_secrets() -> set[str]:
    """Every stored secret decrypted with the keys of the settings now (DecryptionFailed if
    one of them cannot)."""
    return {decrypt(value) for value in stored_ciphertexts()}
