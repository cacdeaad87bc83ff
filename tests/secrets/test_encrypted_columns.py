"""Key rotation finds the columns it rewrites by their type, so no secret column is left out."""

from django.apps import apps

from orgconnectors.encryption.fields import EncryptedTextField
from orgconnectors.encryption.rotation import encrypted_columns
from tests.oauth.secret_rows import COLUMNS


def test_key_rotation_finds_every_encrypted_column_by_its_type():
    found = {(columns.model, name) for columns in encrypted_columns() for name in columns.fields}
    assert found == set(COLUMNS)


def test_the_kinds_of_secrets_keep_their_names_and_order():
    assert [columns.label for columns in encrypted_columns()] == [
        "connector client secrets",
        "single sign-on client secrets",
        "OAuth clients",
        "member credentials",
        "pending authorizations",
        "pending revocations",
    ]


def test_every_column_named_as_encrypted_is_an_encrypted_field():
    # A secret column declared as plain text would be skipped by key rotation: its old key
    # could then never be removed.
    plain = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.name.endswith("_encrypted") and not isinstance(field, EncryptedTextField)
    ]
    assert plain == []
