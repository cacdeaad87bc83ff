"""Tokens made before scopes and required expiries get what their role allowed and an end."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _migrate(api_migration: str):
    """The database with the api app at `api_migration` and every other app at its latest."""
    executor = MigrationExecutor(connection)
    leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "api"]
    targets = [*leaves, ("api", api_migration)]
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_existing_tokens_keep_their_roles_scopes_and_get_an_expiry():
    old = _migrate("0001_initial")
    Plan = old.get_model("organizations", "Plan")
    Organization = old.get_model("organizations", "Organization")
    Membership = old.get_model("organizations", "Membership")
    User = old.get_model("accounts", "User")
    ApiToken = old.get_model("api", "ApiToken")
    org = Organization.objects.create(slug="acme", name="Acme", plan=Plan.objects.first())
    now = timezone.now()
    tokens = {}
    for n, (role, expires_at) in enumerate(
        [
            ("owner", None),
            ("member", now + timedelta(days=3650)),
            ("auditor", now + timedelta(days=5)),
            (None, None),  # left the organization
        ]
    ):
        user = User.objects.create(email=f"user{n}@acme.test")
        if role:
            Membership.objects.create(user=user, organization=org, role=role)
        tokens[role] = ApiToken.objects.create(
            user=user,
            organization=org,
            name="CI",
            prefix=f"oc_{n}",
            token_hash=f"{n:064d}",
            expires_at=expires_at,
        ).pk

    new = _migrate("0003_apitoken_expires_at_required")
    ApiToken = new.get_model("api", "ApiToken")
    got = {role: ApiToken.objects.get(pk=pk) for role, pk in tokens.items()}

    assert got["owner"].scopes == ["read", "connections", "admin"]
    assert got["member"].scopes == ["read", "connections"]
    assert got["auditor"].scopes == ["read"]
    day = timedelta(days=1)
    assert abs(got["owner"].expires_at - (now + timedelta(days=90))) < day
    assert abs(got["member"].expires_at - (now + timedelta(days=365))) < day
    assert abs(got["auditor"].expires_at - (now + timedelta(days=5))) < timedelta(seconds=1)
    assert got[None].revoked_at is not None
    assert all(token.revoked_at is None for role, token in got.items() if role)
