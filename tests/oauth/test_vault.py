"""Secrets at rest: nothing readable in a dump of the database, and key rotation keeps every one
readable under the new key alone."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from orgconnectors.connectors.connections import connection_disable
from orgconnectors.connectors.models import Connector
from orgconnectors.encryption import DecryptionFailed, decrypt, encrypt
from orgconnectors.oauth import tasks
from orgconnectors.oauth.models import (
    OAuthClient,
    OAuthCredential,
    PendingAuthorization,
    TokenRevocation,
)
from orgconnectors.oauth.services import oauth_connection_enable
from tests.oauth.authorization_server import PREREGISTERED_SECRET

pytestmark = pytest.mark.django_db

_TEXT_TYPES = ("text", "character varying", "jsonb", "json")


def _dump() -> str:
    """Every text column of every table, as a database dump would hold them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = ANY(%s)",
            [list(_TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        values = []
        for table, column in columns:
            cursor.execute(f'SELECT "{column}"::text FROM "{table}"')
            values += [row[0] for row in cursor.fetchall() if row[0]]
    return "\n".join(values)


@pytest.fixture
def stored_secrets(
    org,
    owner,
    member,
    oauth_connector,
    provider,
    authorize,
    actor,
    django_capture_on_commit_callbacks,
):
    """A refreshed credential, a pending authorization and a revocation that failed, with a
    pre-registered secret on a second connector; every secret the server handed out."""
    credential = authorize(member, oauth_connector).connection.oauth_credential
    credential.next_refresh_at = credential.obtained_at
    credential.save()
    tasks.refresh_sweep()
    authorize(owner, oauth_connector)
    OAuthClient.objects.update(revocation_endpoint="http://127.0.0.1:9/revoke")
    with django_capture_on_commit_callbacks(execute=True):
        connection_disable(membership=owner, connector=oauth_connector, actor=actor(owner))
    second = Connector.objects.create(
        organization=org,
        name="Wiki",
        url=oauth_connector.url + "/wiki",
        auth=Connector.Auth.OAUTH,
        oauth_client_id="by-hand",
        oauth_client_secret_encrypted=encrypt(PREREGISTERED_SECRET),
    )
    oauth_connection_enable(
        membership=member, connector=second, session_key="session", actor=actor(member)
    )
    handed_out = set(provider.access) | set(provider.refresh) | {PREREGISTERED_SECRET}
    handed_out |= {c.client_secret for c in provider.clients.values() if c.client_secret}
    assert TokenRevocation.objects.count() == 1
    assert PendingAuthorization.objects.exists()
    return handed_out


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="reads PostgreSQL's information_schema"
)
def test_a_dump_of_the_database_holds_no_token_or_secret_in_plain_text(stored_secrets):
    dump = _dump()

    leaked = [secret for secret in stored_secrets if secret in dump]
    assert leaked == []
    assert len(stored_secrets) >= 6
    # The dump does read the vault: what is not secret is there in plain text.
    assert all(client.client_id in dump for client in OAuthClient.objects.order_by("pk"))
    assert OAuthCredential.objects.get().scope in dump


def _readable() -> list[str]:
    values = [decrypt(c.oauth_client_secret_encrypted) for c in Connector.objects.order_by("pk")]
    for credential in OAuthCredential.objects.order_by("pk"):
        values += [decrypt(credential.access_token_encrypted)]
        values += [decrypt(credential.refresh_token_encrypted)]
    values += [decrypt(c.client_secret_encrypted) for c in OAuthClient.objects.order_by("pk")]
    values += [
        decrypt(p.code_verifier_encrypted) for p in PendingAuthorization.objects.order_by("pk")
    ]
    for revocation in TokenRevocation.objects.order_by("pk"):
        values += [decrypt(revocation.access_token_encrypted)]
        values += [decrypt(revocation.refresh_token_encrypted)]
    return values


def test_rotating_keys_keeps_every_secret_readable_under_the_new_key_alone(settings, request):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ORGCONNECTORS_ENCRYPTION_KEYS = [old_key]
    request.getfixturevalue("stored_secrets")
    before = _readable()
    settings.ORGCONNECTORS_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()

    call_command("rotate_encryption_keys", "--batch-size", "1", stdout=out)

    settings.ORGCONNECTORS_ENCRYPTION_KEYS = [new_key]
    assert _readable() == before
    assert "member credentials: 1" in out.getvalue()
    assert "pending revocations: 1" in out.getvalue()
    settings.ORGCONNECTORS_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(DecryptionFailed):
        _readable()
