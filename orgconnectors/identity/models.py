"""What an organization's identity provider provisions: SCIM tokens, the people and the groups
it manages. A SCIM user is the organization's record of a person (kept while deactivated); the
membership is what it grants while active."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.encryption.fields import EncryptedTextField


class ScimToken(models.Model):
    """A bearer token an owner creates for the identity provider; only its SHA-256 is stored."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="scim_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def audit_target(self) -> AuditTarget:
        return AuditTarget(type="scim_token", id=self.pk, label=f"{self.name} ({self.prefix}…)")


class ScimUser(models.Model):
    """A person the identity provider provisions in one organization. `document` keeps the SCIM
    attributes as the provider sent them (no password), so what it reads back is what it wrote."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="scim_users"
    )
    # The account, once the provider has sent an email address to find or create it by.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scim_users",
    )
    user_name = models.CharField(max_length=254)
    external_id = models.CharField(max_length=254, blank=True)
    active = models.BooleanField(default=True)
    document = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("user_name"), name="one_scim_user_name_per_org"
            ),
            models.UniqueConstraint(fields=["organization", "user"], name="one_scim_user_per_org"),
        ]

    def __str__(self) -> str:
        return self.user_name

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="scim_user", id=str(self.pk), label=self.user_name, member_user_id=self.user_id
        )


class ScimGroup(models.Model):
    """A group of people: provisioned by the identity provider (source "scim", its people are
    SCIM users in `members`), or made by owners in the dashboard (source "dashboard", its people
    are memberships in `dashboard_members`, with or without a SCIM record). Both kinds open
    connectors (connectors/group_access.py) and map to roles (identity/group_roles.py); SCIM
    sees and changes only its own (identity/selectors.py)."""

    class Source(models.TextChoices):
        SCIM = "scim", "Identity provider (SCIM)"
        DASHBOARD = "dashboard", "Dashboard"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="scim_groups"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SCIM)
    display_name = models.CharField(max_length=254)
    external_id = models.CharField(max_length=254, blank=True)
    # The role owners map this group to ("" = none): applied to its people on every SCIM change
    # (identity/group_roles.py).
    role = models.CharField(
        max_length=16,
        blank=True,
        choices=[("owner", "Owner"), ("auditor", "Auditor"), ("member", "Member")],
    )
    members = models.ManyToManyField(ScimUser, related_name="groups", blank=True)
    # A dashboard group's people; a membership that ends leaves it with the row.
    dashboard_members = models.ManyToManyField(
        "organizations.Membership", related_name="dashboard_groups", blank=True
    )
    document = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.display_name

    def audit_target(self) -> AuditTarget:
        kind = "group" if self.is_dashboard else "scim_group"
        return AuditTarget(type=kind, id=str(self.pk), label=self.display_name)

    @property
    def is_dashboard(self) -> bool:
        return self.source == self.Source.DASHBOARD

    @property
    def people(self) -> list:
        """The accounts the group holds (from prefetched rows when there are): a SCIM group's
        linked SCIM users, a dashboard group's members."""
        rows = self.dashboard_members.all() if self.is_dashboard else self.members.all()
        return [row.user for row in rows if row.user_id is not None]

    @property
    def people_count(self) -> int:
        rows = self.dashboard_members.all() if self.is_dashboard else self.members.all()
        return len(rows)


class SingleSignOn(models.Model):
    """The organization's identity provider for sign-in: one OpenID Connect client or one SAML
    2.0 service provider, served by allauth's `openid_connect` / `saml` providers as an app built
    from this row (identity/sso_apps.py). Metadata and keys are fetched through the egress
    module, never by the providers themselves."""

    secrets_label = "single sign-on client secrets"

    class Protocol(models.TextChoices):
        OIDC = "oidc", "OpenID Connect"
        SAML = "saml", "SAML 2.0"

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="single_sign_on"
    )
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    # OpenID Connect: the issuer; its discovery document is at
    # {issuer}/.well-known/openid-configuration.
    issuer = models.URLField(max_length=500, blank=True)
    client_id = models.CharField(max_length=255, blank=True)
    client_secret_encrypted = EncryptedTextField(blank=True)
    # SAML: where the IdP's metadata was read from ("" when pasted), and the metadata itself as
    # last read (the providers never fetch it).
    metadata_url = models.URLField(max_length=500, blank=True)
    metadata_xml = models.TextField(blank=True)
    metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    # SAML: the identity provider's entity id, chosen by the owner when the metadata (a
    # federation's aggregate) lists several, else the one it lists; the daily refresh keeps
    # following this provider and no other.
    saml_entity_id = models.CharField(max_length=1024, blank=True)
    # The role of a person's membership made at their first SSO sign-in (just in time).
    default_role = models.CharField(max_length=16, default="member")
    # Members can no longer sign in with a password (owners keep the break-glass link).
    require_sso = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} for {self.organization_id}"

    @property
    def has_client_secret(self) -> bool:
        return bool(self.client_secret_encrypted)

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="single_sign_on", id=self.pk, label=f"{self.get_protocol_display()} sign-in"
        )


class ClaimedDomain(models.Model):
    """An email domain an organization claims: once verified (DNS TXT record through the egress
    resolver, or an operator), people with an address there are sent to its identity provider and
    join it just in time. A domain is verified for one organization at most."""

    class Method(models.TextChoices):
        DNS = "dns", "DNS TXT record"
        OPERATOR = "operator", "Operator"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="claimed_domains"
    )
    domain = models.CharField(max_length=253)
    # The value of the TXT record that proves the claim (not a secret: it is published).
    verification_token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=8, choices=Method.choices, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "domain"], name="one_claim_per_org"),
            models.UniqueConstraint(
                fields=["domain"],
                condition=models.Q(verified_at__isnull=False),
                name="one_verified_claim_per_domain",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def audit_target(self) -> AuditTarget:
        return AuditTarget(type="claimed_domain", id=self.pk, label=self.domain)


class BreakGlassLink(models.Model):
    """An operator-issued, one-time sign-in link for an owner while single sign-on is required
    (the identity provider is down or misconfigured). Only the token's SHA-256 is stored."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="break_glass_links"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="break_glass_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.CharField(max_length=150)
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"break-glass link for {self.user_id}"

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="break_glass_link",
            id=self.pk,
            label="break-glass link",
            member_user_id=self.user_id,
        )
