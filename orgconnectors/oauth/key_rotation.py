"""Re-encrypting every stored secret under the first key of ORGCONNECTORS_ENCRYPTION_KEYS.

After a new key is put first, this rewrites every secret with it; once it has run, the old keys
can be removed from the list. Rows are rewritten in batches, each under row locks in its own
short transaction, so a token refresh running meanwhile is never overwritten with older tokens.
"""

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.db import transaction
from django.db.models import Model

from orgconnectors.connectors.models import Connector
from orgconnectors.encryption import DecryptionFailed, reencrypt
from orgconnectors.oauth.models import (
    OAuthClient,
    OAuthCredential,
    PendingAuthorization,
    TokenRevocation,
)


@dataclass(frozen=True)
class SecretColumns:
    label: str
    model: type[Model]
    fields: tuple[str, ...]


# Every encrypted column of the project; a new one must be added here.
ENCRYPTED = (
    SecretColumns("connector client secrets", Connector, ("oauth_client_secret_encrypted",)),
    SecretColumns("OAuth clients", OAuthClient, ("client_secret_encrypted",)),
    SecretColumns(
        "member credentials",
        OAuthCredential,
        ("access_token_encrypted", "refresh_token_encrypted"),
    ),
    SecretColumns("pending authorizations", PendingAuthorization, ("code_verifier_encrypted",)),
    SecretColumns(
        "pending revocations",
        TokenRevocation,
        ("client_secret_encrypted", "access_token_encrypted", "refresh_token_encrypted"),
    ),
)


def _batch(columns: SecretColumns, after_pk, batch_size: int) -> tuple[int, object]:
    """Re-encrypt one batch after `after_pk`; (rows rewritten, last pk or None at the end)."""
    with transaction.atomic():
        rows = list(
            columns.model.objects.filter(pk__gt=after_pk)
            .order_by("pk")
            .select_for_update()
            .only("pk", *columns.fields)[:batch_size]
        )
        if not rows:
            return 0, None
        for row in rows:
            for name in columns.fields:
                try:
                    setattr(row, name, reencrypt(getattr(row, name)))
                except InvalidToken:
                    raise DecryptionFailed(
                        f"{columns.label} #{row.pk} cannot be decrypted with any key"
                    ) from None
        columns.model.objects.bulk_update(rows, list(columns.fields))
    return len(rows), rows[-1].pk


def secrets_count() -> list[tuple[str, int]]:
    """Rows holding secrets, by kind, in the order secrets_reencrypt rewrites them."""
    return [(columns.label, columns.model.objects.count()) for columns in ENCRYPTED]


def secrets_reencrypt(
    *, batch_size: int = 500, on_progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Rewrite every secret under the first key; rows rewritten by kind."""
    counts: dict[str, int] = {}
    for columns in ENCRYPTED:
        total, after_pk = 0, 0
        while after_pk is not None:
            done, after_pk = _batch(columns, after_pk, batch_size)
            total += done
            if done and on_progress is not None:
                on_progress(columns.label, total)
        counts[columns.label] = total
    return counts
