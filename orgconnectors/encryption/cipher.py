"""Secrets at rest, under MultiFernet: the first key of ORGCONNECTORS_ENCRYPTION_KEYS encrypts,
every key decrypts, so keys can be rotated without downtime."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionFailed(RuntimeError):
    pass


def _dev_key() -> bytes:
    # Development only (settings refuse to start without keys otherwise): derived from the
    # secret key so a restart of the demo can still read what it stored.
    digest = hashlib.sha256(("orgconnectors-dev:" + settings.SECRET_KEY).encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    fernets = [Fernet(key.encode() if isinstance(key, str) else key) for key in keys]
    return MultiFernet(fernets)


def cipher() -> MultiFernet:
    keys = tuple(settings.ORGCONNECTORS_ENCRYPTION_KEYS) or (_dev_key().decode(),)
    return _cipher(keys)


def key_fingerprint() -> str:
    """Which key encrypts, without revealing it: the first 8 hex characters of its SHA-256."""
    keys = tuple(settings.ORGCONNECTORS_ENCRYPTION_KEYS) or (_dev_key().decode(),)
    first = keys[0].encode() if isinstance(keys[0], str) else keys[0]
    return hashlib.sha256(first).hexdigest()[:8]


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return cipher().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return cipher().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed(
            "a stored secret cannot be decrypted with any key in ORGCONNECTORS_ENCRYPTION_KEYS"
        ) from None


def reencrypt(ciphertext: str) -> str:
    """The same secret under the first key (for key rotation)."""
    if not ciphertext:
        return ""
    return cipher().rotate(ciphertext.encode()).decode()
