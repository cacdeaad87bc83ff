from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

# Frozen here: the scopes each role allowed when tokens gained scopes.
ROLE_SCOPES = {
    "owner": ["read", "connections", "admin"],
    "member": ["read", "connections"],
    "auditor": ["read"],
}


def give_existing_tokens_scopes_and_an_expiry(apps, schema_editor):
    """A token made before scopes could do everything its role could, so it keeps exactly that.
    A token without expiry (or past a year) gets the longest a new one may have, counted from
    now; one whose owner left the organization is revoked, as it would be today."""
    ApiToken = apps.get_model("api", "ApiToken")
    Membership = apps.get_model("organizations", "Membership")
    now = timezone.now()
    roles = {
        (m.user_id, m.organization_id): m.role
        for m in Membership.objects.only("user_id", "organization_id", "role")
    }
    for token in ApiToken.objects.all().iterator():
        role = roles.get((token.user_id, token.organization_id))
        token.scopes = ROLE_SCOPES.get(role, [])
        if role is None and token.revoked_at is None:
            token.revoked_at = now
        if token.expires_at is None:
            token.expires_at = now + timedelta(days=90)
        token.expires_at = min(token.expires_at, now + timedelta(days=365))
        token.save(update_fields=["scopes", "revoked_at", "expires_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(default=list),
        ),
        migrations.RunPython(give_existing_tokens_scopes_and_an_expiry, migrations.RunPython.noop),
    ]
