"""The column type of a secret at rest."""

from django.db import models


class EncryptedTextField(models.TextField):
    """Text holding ciphertext from `encryption.encrypt` ("" for no secret), never plaintext.

    Stored as a plain text column: the code encrypts before saving and decrypts where the secret
    is used (oauth/vault.py), so a secret is never decrypted just by loading its row. Key
    rotation (encryption/rotation.py) finds every column of this type in every model and
    rewrites it; a new secret stored in a column of this type is rotated with no list to update.
    """
