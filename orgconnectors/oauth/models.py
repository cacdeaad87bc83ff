"""What orgconnectors keeps to act for members at their connectors' authorization servers.

Every secret here (client secrets, PKCE verifiers, access and refresh tokens) is MultiFernet
ciphertext from orgconnectors.encryption, in an EncryptedTextField whose name ends in
`_encrypted`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from orgconnectors.encryption.fields import EncryptedTextField


class OAuthClient(models.Model):
    """How orgconnectors identifies itself to one authorization server for one connector.

    Shared by every member of the organization who connects the connector; with the
    authorization server's endpoints as last discovered.
    """

    # What key rotation calls these rows in its progress and errors (encryption/rotation.py).
    secrets_label = "OAuth clients"

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
    client_secret_encrypted = EncryptedTextField(blank=True)
    # none, client_secret_basic or client_secret_post.
    token_endpoint_auth_method = models.CharField(max_length=32, default="none")
    # Dynamic registrations only: the scopes registered; asking for more needs a new one.
    registered_scope = models.TextField(blank=True)
    authorization_endpoint = models.CharField(max_length=1000)
    token_endpoint = models.CharField(max_length=1000)
    revocation_endpoint = models.CharField(max_length=1000, blank=True)
    # The redirect URI this client was registered with: one per issuer, so an authorization
    # server can only send a member back to the address of its own authorizations. Empty for
    # clients from before, registered with the shared /oauth/callback.
    redirect_uri = models.CharField(max_length=1000, blank=True)
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


class ClientIssuerPin(models.Model):
    """The authorization server an owner's pre-registered OAuth client (the connector's client
    ID and secret) belongs to: the secret is sent to that issuer only.

    Pinned when the owner states it, else at the first discovery after the credentials were
    saved (before the secret is ever sent), and shown to owners on the connector's page. A
    server that later names another issuer waits in `pending_issuer` for an owner to confirm.
    """

    class How(models.TextChoices):
        FIRST_USE = "first_use", "First authorization server found"
        OWNER = "owner", "Confirmed by an owner"

    connector = models.OneToOneField(
        "connectors.Connector", on_delete=models.CASCADE, related_name="oauth_issuer_pin"
    )
    # The client ID the pin is for: new credentials are pinned anew.
    client_id = models.CharField(max_length=255)
    issuer = models.CharField(max_length=500)
    pinned_how = models.CharField(max_length=16, choices=How.choices)
    pending_issuer = models.CharField(max_length=500, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    pinned_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"client of connector {self.connector_id} at {self.issuer}"


class PendingAuthorization(models.Model):
    """One authorization request sent to an authorization server and not yet answered.

    Found again by the hash of its `state`, which is single-use and bound to the member, the
    connector and (when started from the dashboard) the browser session.
    """

    # What key rotation calls these rows in its progress and errors (encryption/rotation.py).
    secrets_label = "pending authorizations"

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
    code_verifier_encrypted = EncryptedTextField()
    redirect_uri = models.CharField(max_length=500)
    # The authorization server the member was sent to (RFC 9207 mix-up defence), and whether
    # its metadata promised to name itself in the answer (`iss`).
    issuer = models.CharField(max_length=500, blank=True)
    iss_required = models.BooleanField(default=False)
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

    # What key rotation calls these rows in its progress and errors (encryption/rotation.py).
    secrets_label = "member credentials"

    connection = models.OneToOneField(
        "connectors.Connection", on_delete=models.CASCADE, related_name="oauth_credential"
    )
    # RESTRICT: a client goes only after its credentials (or with them, in a cascade).
    client = models.ForeignKey(OAuthClient, on_delete=models.RESTRICT, related_name="credentials")
    access_token_encrypted = EncryptedTextField()
    refresh_token_encrypted = EncryptedTextField(blank=True)
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

    # What key rotation calls these rows in its progress and errors (encryption/rotation.py).
    secrets_label = "pending revocations"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    connection_ref = models.PositiveBigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300)
    revocation_endpoint = models.CharField(max_length=1000)
    client_id = models.CharField(max_length=1000)
    client_secret_encrypted = EncryptedTextField(blank=True)
    token_endpoint_auth_method = models.CharField(max_length=32, default="none")
    access_token_encrypted = EncryptedTextField(blank=True)
    refresh_token_encrypted = EncryptedTextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"revocation for {self.target_label}"


class KeyRotation(models.Model):
    """One re-encryption of every stored secret under the first key of
    ORGCONNECTORS_ENCRYPTION_KEYS, asked for in the admin (a Celery worker does it) or by the
    command `rotate_encryption_keys` (done in its own process). Never holds a key or a secret."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Re-encrypting"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        WEB = "web", "Admin page"
        COMMAND = "command", "Management command"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    source = models.CharField(max_length=8, choices=Source.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who it was, kept when the account is gone.
    requested_by_label = models.CharField(max_length=254, blank=True)
    # The first key where the run was done: 8 hex characters of its SHA-256, never the key.
    key_fingerprint = models.CharField(max_length=8, blank=True)
    # Counted when the run starts; rows added meanwhile are rewritten too, and counted at the end.
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    # Per kind of secret, in the order they are rewritten: [{"kind", "total", "done"}, ...].
    counts = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Queued: until when it waits for a worker before another run may take its place. Running:
    # its worker holds it until then (by lease_token) and renews it at every batch (heartbeat_at);
    # past it, the worker is taken for dead and the run may be claimed again.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("rotate_keys", "Can re-encrypt every secret under the first key")]
        constraints = [
            # A constant under the condition: at most one run queued or running, whichever.
            models.UniqueConstraint(
                models.Value(True),
                condition=models.Q(status__in=["queued", "running"]),
                name="one_key_rotation_at_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"Key rotation #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))

    @property
    def rows_shown(self) -> int:
        """Rows done as a page says it: never more than the total counted at the start."""
        return min(self.rows_done, self.rows_total) if self.rows_total else self.rows_done

    def stalled(self, now=None) -> bool:
        """Past its lease: no worker took it in time, or its worker stopped renewing it."""
        now = now or timezone.now()
        expired = self.lease_until is not None and self.lease_until < now
        return self.status in self.ACTIVE and expired

    def kinds(self) -> list[tuple[str, int, int]]:
        """(label, done, total) per kind of secret."""
        return [(kind["kind"], kind["done"], kind["total"]) for kind in self.counts]
