"""What orgconnectors keeps to act for members at their connectors' authorization servers.

Every secret here (client secrets, PKCE verifiers, access and refresh tokens) is MultiFernet
ciphertext from orgconnectors.encryption, in a field whose name ends in `_encrypted`.
"""

from django.conf import settings
from django.db import models


class OAuthClient(models.Model):
    """How orgconnectors identifies itself to one authorization server for one connector.

    Shared by every member of the organization who connects the connector; with the
    authorization server's endpoints as last discovered.
    """

    class Kind(models.TextChoices):
        PREREGISTERED = "preregistered", "Registered by an owner"
        METADATA_DOCUMENT = "metadata_document", "Client ID Metadata Document"
        DYNAMIC = "dynamic", "Dynamic Client Registration"

    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.CASCADE, related_name="oauth_clients"
    )
    issuer = models.CharField(max_length=500)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    client_id = models.CharField(max_length=1000, blank=True)
    client_secret_encrypted = models.TextField(blank=True)
    # none, client_secret_basic or client_secret_post.
    token_endpoint_auth_method = models.CharField(max_length=32, default="none")
    # Dynamic registrations only: the scopes registered; asking for more needs a new one.
    registered_scope = models.TextField(blank=True)
    authorization_endpoint = models.CharField(max_length=1000)
    token_endpoint = models.CharField(max_length=1000)
    revocation_endpoint = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "issuer"], name="one_oauth_client_per_issuer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.issuer}"


class PendingAuthorization(models.Model):
    """One authorization request sent to an authorization server and not yet answered.

    Found again by the hash of its `state`, which is single-use and bound to the member, the
    connector and (when started from the dashboard) the browser session.
    """

    class Purpose(models.TextChoices):
        CONNECT = "connect", "Connect"
        STEP_UP = "step_up", "More scopes"

    state_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        "organizations.Membership", on_delete=models.CASCADE, related_name="+"
    )
    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    # A hash of the session key; empty when started with an API token, which has no session.
    session_hash = models.CharField(max_length=64, blank=True)
    code_verifier_encrypted = models.TextField()
    redirect_uri = models.CharField(max_length=500)
    resource = models.CharField(max_length=500)
    scope = models.TextField(blank=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.CONNECT)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"authorization of {self.connector_id} for {self.user_id}"


class OAuthCredential(models.Model):
    """The tokens a member's connection holds, and when they are refreshed next."""

    connection = models.OneToOneField(
        "connectors.Connection", on_delete=models.CASCADE, related_name="oauth_credential"
    )
    # RESTRICT: a client goes only after its credentials (or with them, in a cascade).
    client = models.ForeignKey(OAuthClient, on_delete=models.RESTRICT, related_name="credentials")
    access_token_encrypted = models.TextField()
    refresh_token_encrypted = models.TextField(blank=True)
    token_type = models.CharField(max_length=32, default="Bearer")
    scope = models.TextField(blank=True)
    obtained_at = models.DateTimeField()
    # Local receipt time + expires_in; null when the server gave no lifetime.
    expires_at = models.DateTimeField(null=True, blank=True)
    # When the sweep refreshes it next; null when it cannot be refreshed.
    next_refresh_at = models.DateTimeField(null=True, blank=True)
    # Grows at every change of tokens: a refresh planned for one generation is moot after it.
    generation = models.PositiveIntegerField(default=1)
    # A refresh in flight holds the lease (until that time, by that token); nobody else starts one.
    refresh_lease_until = models.DateTimeField(null=True, blank=True)
    refresh_lease_token = models.CharField(max_length=32, blank=True)
    refresh_failures = models.PositiveSmallIntegerField(default=0)
    last_refresh_error = models.CharField(max_length=300, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    # Step-up: the scope set last asked for, and how many authorizations asked for it.
    step_up_scope = models.TextField(blank=True)
    step_up_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["next_refresh_at"], name="oauth_credential_due")]

    def __str__(self) -> str:
        return f"credential of connection {self.connection_id}"

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


class TokenRevocation(models.Model):
    """Tokens of an ended connection, kept (encrypted) only until the authorization server has
    been asked to revoke them; independent of the connector, which may be gone by then."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    connection_ref = models.PositiveBigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300)
    revocation_endpoint = models.CharField(max_length=1000)
    client_id = models.CharField(max_length=1000)
    client_secret_encrypted = models.TextField(blank=True)
    token_endpoint_auth_method = models.CharField(max_length=32, default="none")
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"revocation for {self.target_label}"
