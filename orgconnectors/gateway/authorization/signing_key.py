"""The RSA key that signs the authorization server's ID tokens (RS256).

ORGCONNECTORS_GATEWAY_SIGNING_KEY (PEM) when set; otherwise a key generated on first use into
`{ORGCONNECTORS_VAR_DIR}/gateway-signing-key.pem` (readable by its owner only) and read from there
by every process of the machine. Several machines must share one key: set the variable.
"""

import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

FILE_NAME = "gateway-signing-key.pem"


def _generated_pem(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes generating at once, the first file wins and both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text()
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    return pem


@functools.cache
def _pem(configured: str, var_dir: str) -> str:
    if configured.strip():
        return configured.strip() + "\n"
    return _generated_pem(Path(var_dir) / FILE_NAME)


def signing_key_pem() -> str:
    return _pem(settings.ORGCONNECTORS_GATEWAY_SIGNING_KEY, str(settings.VAR_DIR))
