"""Re-encrypting every stored secret under the first key of ORGCONNECTORS_ENCRYPTION_KEYS.

After a new key is put first, this rewrites every secret with it; once it has run, the old keys
can be removed from the list. Rows are rewritten in batches, each under row locks in its own
short transaction, so a token refresh running meanwhile is never overwritten with older tokens.

Which columns: every EncryptedTextField of every installed model, found when a rotation runs,
so a secret stored in a new column is rotated without a list to keep. A model says what its
rows are called in progress and errors with `secrets_label` (else its verbose plural name).
"""

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.db import transaction
from django.db.models import Model

from orgconnectors.encryption.cipher import DecryptionFailed, reencrypt
from orgconnectors.encryption.fields import EncryptedTextField


@dataclass(frozen=True)
class SecretColumns:
    label: str
    model: type[Model]
    fields: tuple[str, ...]


def encrypted_columns() -> list[SecretColumns]:
    """Every model with encrypted columns, and those columns, in the order of the models'
    labels ("app.Model") and then of their fields: the same order at every run."""
    found = []
    for model in apps.get_models():
        fields = tuple(
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField)
        )
        if fields:
            label = getattr(model, "secrets_label", None) or str(model._meta.verbose_name_plural)
            found.append(SecretColumns(label, model, fields))
    return sorted(found, key=lambda columns: columns.model._meta.label)


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
    return [(columns.label, columns.model.objects.count()) for columns in encrypted_columns()]


def secrets_reencrypt(
    *, batch_size: int = 500, on_progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Rewrite every secret under the first key; rows rewritten by kind."""
    counts: dict[str, int] = {}
    for columns in encrypted_columns():
        total, after_pk = 0, 0
        while after_pk is not None:
            done, after_pk = _batch(columns, after_pk, batch_size)
            total += done
            if done and on_progress is not None:
                on_progress(columns.label, total)
        counts[columns.label] = total
    return counts
