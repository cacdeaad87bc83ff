"""Secrets at rest: the bottom layer every app that stores a secret uses, importing no app of ours.

`cipher.py` encrypts and decrypts under the keys of ORGCONNECTORS_ENCRYPTION_KEYS; `fields.py`
is the column type that holds ciphertext; `rotation.py` re-encrypts every such column under the
first key, finding them by their type. The operator's runs of a rotation (their progress and
lease, the admin page, the task and the command) are kept above, in oauth/key_rotation_runs.py.
"""

from orgconnectors.encryption.cipher import (
    DecryptionFailed,
    decrypt,
    encrypt,
    key_fingerprint,
    reencrypt,
)

__all__ = ["DecryptionFailed", "decrypt", "encrypt", "key_fingerprint", "reencrypt"]
