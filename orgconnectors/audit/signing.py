"""The Ed25519 key that signs the audit trail's digests: read from ORGCONNECTORS_AUDIT_SIGNING_KEY,
never stored in the database, so whoever can write the database cannot sign a rewritten trail.

The setting holds a private key as PEM (PKCS#8) or as the base64 of its 32 raw bytes. In
development (ORGCONNECTORS_DEV=1 or DEBUG) a fixed key derived from SECRET_KEY stands in, as for
the encryption keys. Elsewhere, without the setting, digests are off: the dashboard keeps running
(the hash chain still shows edits made through the application) and `check --deploy` warns.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

SETTING = "ORGCONNECTORS_AUDIT_SIGNING_KEY"
ALGORITHM = "Ed25519"


class SigningKeyInvalid(ValueError):
    pass


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public: Ed25519PublicKey) -> str:
    """The key's name in digests: the first 16 hex characters of the SHA-256 of its raw bytes."""
    return hashlib.sha256(_raw_public(public)).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey = field(repr=False)
    public: Ed25519PublicKey = field(repr=False)
    key_id: str

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()

    @property
    def public_base64(self) -> str:
        return base64.b64encode(_raw_public(self.public)).decode()

    @property
    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def parse_private_key(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError):
            raise SigningKeyInvalid(f"{SETTING} is not a readable unencrypted PEM key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyInvalid(f"{SETTING} holds a PEM key that is not an Ed25519 key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SigningKeyInvalid(
            f"{SETTING} must be a PEM Ed25519 private key or the base64 of its 32 raw bytes; "
            "generate one with `python manage.py publish_audit_digests --new-key`"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def _dev_seed() -> bytes:
    return hashlib.sha256(("orgconnectors-audit-dev:" + settings.SECRET_KEY).encode()).digest()


@cache
def _key(configured: str, dev_seed: bytes | None) -> SigningKey | None:
    if configured:
        private = parse_private_key(configured)
    elif dev_seed is not None:
        private = Ed25519PrivateKey.from_private_bytes(dev_seed)
    else:
        return None
    public = private.public_key()
    return SigningKey(private, public, key_id_of(public))


def signing_key() -> SigningKey | None:
    """This deployment's key, or None when digests are off (production without the setting)."""
    configured = getattr(settings, SETTING, "") or ""
    dev = getattr(settings, "DEV_MODE", False) or settings.DEBUG
    return _key(configured, _dev_seed() if dev and not configured else None)


def verifying_keys() -> dict[str, Ed25519PublicKey]:
    """{key id: public key} of this deployment's key and of the former keys the operator still
    trusts (ORGCONNECTORS_AUDIT_FORMER_PUBLIC_KEYS: base64 raw public keys, comma-separated), so
    digests signed before a key change still verify."""
    keys = {}
    for text in getattr(settings, "ORGCONNECTORS_AUDIT_FORMER_PUBLIC_KEYS", []) or []:
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise SigningKeyInvalid(
                "ORGCONNECTORS_AUDIT_FORMER_PUBLIC_KEYS must list base64 Ed25519 public keys "
                "(the public_key of /api/v1/audit-public-key)"
            ) from None
        keys[key_id_of(public)] = public
    current = signing_key()
    if current is not None:
        keys[current.key_id] = current.public
    return keys


def new_private_key_base64() -> str:
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode()


def signature_valid(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
