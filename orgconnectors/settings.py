"""Settings, all read from the environment.

With no environment at all the project runs on one machine with nothing to install: SQLite and a
Celery broker kept in files. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from orgconnectors.audit.schedule import AUDIT_BEAT_SCHEDULE
from orgconnectors.egress.dns_records import parse_resolvers
from orgconnectors.egress.trust import CAFileError, check_ca_file
from orgconnectors.environment import (
    ImproperlyConfiguredEnv,
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
)
from orgconnectors.gateway.authorization.schedule import GATEWAY_AUTHORIZATION_BEAT_SCHEDULE
from orgconnectors.health.schedule import HEALTH_BEAT_SCHEDULE
from orgconnectors.identity.schedule import IDENTITY_BEAT_SCHEDULE
from orgconnectors.messages_api.ratelimit import InvalidRate, parse_rate
from orgconnectors.oauth.schedule import OAUTH_BEAT_SCHEDULE
from orgconnectors.outbox.schedule import OUTBOX_BEAT_SCHEDULE
from orgconnectors.reports.schedule import REPORTS_BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ORGCONNECTORS_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
# Development conveniences (a fixed secret key, loopback egress) only where asked for.
DEV_MODE = env_bool("ORGCONNECTORS_DEV", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or DEV_MODE):
        raise ImproperlyConfiguredEnv(
            "DJANGO_SECRET_KEY is not set; set it, or set ORGCONNECTORS_DEV=1 for local development"
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ORGCONNECTORS_BASE_URL = env_str("ORGCONNECTORS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The port `manage.py run_dev` (`make run`) serves the dashboard on; serve.py reads the same
# variable itself, before Django starts.
PORT = env_int("PORT", 8000)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [ORGCONNECTORS_BASE_URL])

# Keys for secrets at rest (MultiFernet): comma-separated, the first one encrypts, all decrypt.
ORGCONNECTORS_ENCRYPTION_KEYS = env_list("ORGCONNECTORS_ENCRYPTION_KEYS")
if not ORGCONNECTORS_ENCRYPTION_KEYS and not (DEBUG or DEV_MODE):
    raise ImproperlyConfiguredEnv(
        "ORGCONNECTORS_ENCRYPTION_KEYS is not set; generate one with `python -c "
        "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
    )

# Signs the audit trail's hourly digests (Ed25519: PEM, or base64 of the 32 raw bytes). Not in
# the database on purpose. Unset: a fixed dev key in development, digests off (and a warning
# from `check --deploy`) elsewhere. See orgconnectors/audit/signing.py.
ORGCONNECTORS_AUDIT_SIGNING_KEY = env_str("ORGCONNECTORS_AUDIT_SIGNING_KEY", "")
# After a key change: the former keys' public halves, so the digests they signed still verify.
ORGCONNECTORS_AUDIT_FORMER_PUBLIC_KEYS = env_list("ORGCONNECTORS_AUDIT_FORMER_PUBLIC_KEYS")

# Outbound requests: https only; loopback and http only for development and tests.
ORGCONNECTORS_ALLOW_LOOPBACK = env_bool("ORGCONNECTORS_ALLOW_LOOPBACK", False)
ORGCONNECTORS_EGRESS_ALLOW_CIDRS = env_list("ORGCONNECTORS_EGRESS_ALLOW_CIDRS")
# Each outbound request: its connect and per-read timeouts, one deadline for all of it (DNS,
# connect, TLS, every read), and a cap on its answer's decoded size.
ORGCONNECTORS_EGRESS_CONNECT_TIMEOUT = env_float("ORGCONNECTORS_EGRESS_CONNECT_TIMEOUT", 5.0)
ORGCONNECTORS_EGRESS_READ_TIMEOUT = env_float("ORGCONNECTORS_EGRESS_READ_TIMEOUT", 10.0)
ORGCONNECTORS_EGRESS_DEADLINE_SECONDS = env_float("ORGCONNECTORS_EGRESS_DEADLINE_SECONDS", 30.0)
ORGCONNECTORS_EGRESS_MAX_RESPONSE_BYTES = env_int(
    "ORGCONNECTORS_EGRESS_MAX_RESPONSE_BYTES", 5 * 1024 * 1024
)
# The DNS servers that look up proofs published in DNS (a claimed domain's TXT record):
# comma-separated host[:port] IP addresses; unset, the system's (/etc/resolv.conf).
ORGCONNECTORS_DNS_RESOLVERS = env_list("ORGCONNECTORS_DNS_RESOLVERS")
try:
    parse_resolvers(ORGCONNECTORS_DNS_RESOLVERS)
except ImproperlyConfigured as unusable:
    raise ImproperlyConfiguredEnv(str(unusable)) from None
# A PEM bundle of private certificate authorities, trusted on top of the public roots.
ORGCONNECTORS_EGRESS_CA_FILE = env_str("ORGCONNECTORS_EGRESS_CA_FILE", "").strip()
if ORGCONNECTORS_EGRESS_CA_FILE:
    try:
        check_ca_file(ORGCONNECTORS_EGRESS_CA_FILE)
    except CAFileError as unusable:
        raise ImproperlyConfiguredEnv(str(unusable)) from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Single sign-on: each organization's identity provider, as an app built from its
    # SingleSignOn row (identity/sso_apps.py), never from the SocialApp table.
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    # The gateway's OAuth 2.1 authorization server (orgconnectors/gateway/authorization).
    "allauth.idp.oidc",
    "ninja",
    "orgconnectors.egress",
    "orgconnectors.accounts",
    "orgconnectors.organizations",
    "orgconnectors.connectors",
    "orgconnectors.identity",
    "orgconnectors.scim",
    "orgconnectors.audit",
    "orgconnectors.reports",
    "orgconnectors.api",
    "orgconnectors.health",
    "orgconnectors.oauth",
    "orgconnectors.outbox",
    "orgconnectors.ops",
    "orgconnectors.demo",
    "orgconnectors.gateway",
    "orgconnectors.gateway.authorization",
]

MIDDLEWARE = [
    # /healthz and /readyz, answered before the https redirect and the host check (ops/probes.py).
    "orgconnectors.ops.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "orgconnectors.no_store.ApiAnswersAreNotStored",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A sign-in started at an identity provider that cannot be reached: a page with the reason.
    "orgconnectors.identity.sso_middleware.SsoProviderUnreachable",
]

ROOT_URLCONF = "orgconnectors.urls"
WSGI_APPLICATION = "orgconnectors.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "orgconnectors.web.context_processors.current_organization",
            ],
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "orgconnectors.sqlite3",
            # The web server, the worker and beat share one file: wait for locks instead of failing.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("TEST_DATABASE_NAME") or None
# Under ASGI each request runs in a thread of its own, so Django's persistent connections are
# not reused but pile up until PostgreSQL refuses more: the ASGI web processes of `make serve`
# set this and borrow connections from a pool per process instead (psycopg_pool).
if env_bool("ORGCONNECTORS_DB_POOL", False) and DATABASE_URL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env_int("ORGCONNECTORS_DB_POOL_MAX_SIZE", 10),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# allauth: email is the login, no usernames.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ORGCONNECTORS_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_LOGOUT_ON_GET = False
# identity's adapter refuses a password to members of an organization that requires single
# sign-on (identity/account_adapter.py); it extends accounts' own.
ACCOUNT_ADAPTER = "orgconnectors.identity.account_adapter.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if ORGCONNECTORS_BASE_URL.startswith("https") else "http"
LOGIN_REDIRECT_URL = "home"
# Single sign-on (identity/sso_adapter.py): who may sign in through an organization's identity
# provider, and its requests through the egress module. Upstream tokens are not kept; no sign-up
# form: an account is made only for an address in a domain the organization has verified.
SOCIALACCOUNT_ADAPTER = "orgconnectors.identity.sso_adapter.SsoAdapter"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_REQUIRED = True
# The login page's "Sign in with single sign-on" form posts, so the provider's login URL is
# reached with a POST (CSRF-protected) and never by a GET from another site.
SOCIALACCOUNT_LOGIN_ON_GET = False
LOGIN_URL = "account_login"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]

# The gateway's authorization server is allauth's OpenID Connect provider, adapted for MCP clients
# (docs/gateway.md): open dynamic client registration and Client ID Metadata Documents (Claude.ai,
# Claude Code, the MCP Inspector register themselves), tokens bound to one gateway endpoint.
IDP_OIDC_ADAPTER = "orgconnectors.gateway.authorization.adapter.GatewayOIDCAdapter"
IDP_OIDC_DCR_ENABLED = True
IDP_OIDC_DCR_REQUIRES_INITIAL_ACCESS_TOKEN = False
IDP_OIDC_CIMD_ENABLED = True
# Short-lived: whatever happens, a token ends within this; a member removed or a token revoked
# is cut off within ORGCONNECTORS_GATEWAY_CACHE_SECONDS (access_tokens.py).
IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN = env_int("ORGCONNECTORS_GATEWAY_ACCESS_TOKEN_SECONDS", 900)
IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN = (
    env_int("ORGCONNECTORS_GATEWAY_REFRESH_TOKEN_DAYS", 30) * 24 * 3600
)
# Claude.ai registers from a few addresses for every organization: allauth's 3 a minute per
# address would refuse the fourth member connecting in the same minute.
IDP_OIDC_RATE_LIMITS = {"client_registration": "30/m/ip", "cimd_fetch": "30/m/ip"}
# The key that signs ID tokens (RS256, PEM). Without it, one is generated into the var directory
# on first use: set it when more than one machine serves orgconnectors.
ORGCONNECTORS_GATEWAY_SIGNING_KEY = env_str("ORGCONNECTORS_GATEWAY_SIGNING_KEY", "")

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "orgconnectors <noreply@orgconnectors.invalid>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise warns on every request while the folder is missing (before the first collectstatic).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Browser hardening. Served over https (the base URL says so): cookies only over TLS, plain
# http redirected, and HSTS so browsers never try http again.
_HTTPS = ORGCONNECTORS_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = _HTTPS
# Load balancers probe over plain http (the probes' middleware answers first anyway).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("ORGCONNECTORS_HSTS_SECONDS", 31_536_000) if _HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ORGCONNECTORS_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = SECURE_HSTS_INCLUDE_SUBDOMAINS
# Behind a proxy that ends TLS, the request reaches Django over http: trust the proxy's
# X-Forwarded-Proto, and only then (anyone could send it to a server that faces the internet).
if env_bool("ORGCONNECTORS_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Scripts and styles only from this site's static files, or inline with the page's nonce;
# no framing, no plugins, forms post only here (Connect and Authorize leave for the
# authorization server without a redirect, which form-action would block: oauth/handoff.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # allauth shows the two-factor QR code as a data: image.
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
    }
}

# Invitations expire; a week is long enough for people on holiday, short enough to limit a leak.
ORGCONNECTORS_INVITATION_TTL_HOURS = env_int("ORGCONNECTORS_INVITATION_TTL_HOURS", 168)

# Plans are the operator's: owners' requests for another plan are emailed here (else to ADMINS).
ORGCONNECTORS_OPERATOR_EMAILS = env_list("ORGCONNECTORS_OPERATOR_EMAILS")
# A plan change that shortens audit retention keeps older events this many days more.
ORGCONNECTORS_RETENTION_GRACE_DAYS = env_int("ORGCONNECTORS_RETENTION_GRACE_DAYS", 30)

# Celery: Redis when REDIS_URL is given, otherwise a broker kept in files (no daemon needed).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A broker that is down fails a publish at once, one that hangs within 2 s (measured: 6 s
    # and over a minute with kombu's defaults); the outbox keeps the task for the relay.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        "max_retries": 0,
    }
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Without this, remote-control messages (inspect, ping) land in the current directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Django's cache holds allauth's rate limits (sign-in, password reset, 2FA): on Redis they hold
# across every web process; without REDIS_URL, per process (enough for one machine). Short
# timeouts, and a backend that answers "nothing cached" when Redis is down (the rate limits let
# requests through, with a warning in the log) rather than an error page.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "orgconnectors.degrading_cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "orgconnectors-cache",
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    **HEALTH_BEAT_SCHEDULE,
    **OAUTH_BEAT_SCHEDULE,
    **GATEWAY_AUTHORIZATION_BEAT_SCHEDULE,
    **AUDIT_BEAT_SCHEDULE,
    **REPORTS_BEAT_SCHEDULE,
    **OUTBOX_BEAT_SCHEDULE,
    **IDENTITY_BEAT_SCHEDULE,
}

# Health checks. A worker process probes this many servers at once over one pooled client.
# 50 checks 1,000 servers that answer in 100 ms within 10 s (bench/health_probe.py).
ORGCONNECTORS_PROBE_CONCURRENCY = env_int("ORGCONNECTORS_PROBE_CONCURRENCY", 50)
# One check (connect, handshake, every page of tools) must finish within this.
ORGCONNECTORS_PROBE_TIMEOUT_MS = env_int("ORGCONNECTORS_PROBE_TIMEOUT_MS", 10_000)
# A check that takes longer than this is "degraded (slow)".
ORGCONNECTORS_PROBE_SLOW_MS = env_int("ORGCONNECTORS_PROBE_SLOW_MS", 2_000)
# Connectors one sweep task claims at a time, and how long its claim holds should it die.
ORGCONNECTORS_PROBE_BATCH_SIZE = env_int("ORGCONNECTORS_PROBE_BATCH_SIZE", 100)
ORGCONNECTORS_PROBE_LEASE_SECONDS = env_int("ORGCONNECTORS_PROBE_LEASE_SECONDS", 600)
# The gateway (/mcp/{org}/{connector}). A token check and a member's access to a connector
# (membership, connection, tool listing, upstream token) are reused in process memory this
# long: a revoked token, a removed member or a disabled connection stops within it.
ORGCONNECTORS_GATEWAY_CACHE_SECONDS = env_float("ORGCONNECTORS_GATEWAY_CACHE_SECONDS", 2.0)
# How long one tool call may take upstream (the Messages API gives up after about 300 s).
ORGCONNECTORS_GATEWAY_CALL_TIMEOUT_SECONDS = env_float(
    "ORGCONNECTORS_GATEWAY_CALL_TIMEOUT_SECONDS", 300.0
)
# Tool-call usage rows wait in memory at most this long before one INSERT writes them.
ORGCONNECTORS_GATEWAY_USAGE_FLUSH_SECONDS = env_float(
    "ORGCONNECTORS_GATEWAY_USAGE_FLUSH_SECONDS", 1.0
)
# An owner ending a member's gateway session refuses that member's calls this long.
ORGCONNECTORS_GATEWAY_SESSION_HOLD_SECONDS = env_int(
    "ORGCONNECTORS_GATEWAY_SESSION_HOLD_SECONDS", 900
)
# The live view's "session": a (member, client, connector) seen by the gateway this recently
# (stateless mode keeps no session open between requests).
ORGCONNECTORS_GATEWAY_SESSION_WINDOW_SECONDS = env_int(
    "ORGCONNECTORS_GATEWAY_SESSION_WINDOW_SECONDS", 600
)
# A token refresh's claim, and how long a credential handed to a refresh task stays out of
# other sweeps: a worker that dies mid-refresh delays that credential by at most these.
ORGCONNECTORS_REFRESH_LEASE_SECONDS = env_int("ORGCONNECTORS_REFRESH_LEASE_SECONDS", 60)
ORGCONNECTORS_REFRESH_SWEEP_LEASE_SECONDS = env_int(
    "ORGCONNECTORS_REFRESH_SWEEP_LEASE_SECONDS", 300
)
# Individual checks are kept this long, then folded into daily rollups.
ORGCONNECTORS_HEALTH_HISTORY_DAYS = env_int("ORGCONNECTORS_HEALTH_HISTORY_DAYS", 7)
# Set by the MCP conformance suite for `manage.py mcp_conformance_client`: JSON with the client
# ID and secret a scenario pre-registered at its authorization server. Unset: register anew.
MCP_CONFORMANCE_CONTEXT = env_str("MCP_CONFORMANCE_CONTEXT", "")

# Messages API configuration: how many times one API token (or signed-in person) may ask for it
# per period ("60/min", "10/s", "1000/hour"); apps ask before each request, tokens last minutes.
ORGCONNECTORS_CONFIG_RATE_LIMIT = env_str("ORGCONNECTORS_CONFIG_RATE_LIMIT", "60/min")
try:
    parse_rate(ORGCONNECTORS_CONFIG_RATE_LIMIT)
except InvalidRate as invalid:
    raise ImproperlyConfiguredEnv(f"ORGCONNECTORS_CONFIG_RATE_LIMIT: {invalid}") from None

# Exports of the audit trail and usage events: up to this many rows stream in the response;
# more are written to a file in this directory by a worker, downloadable for these hours.
ORGCONNECTORS_EXPORT_STREAM_LIMIT = env_int("ORGCONNECTORS_EXPORT_STREAM_LIMIT", 100_000)
ORGCONNECTORS_EXPORT_DIR = Path(env_str("ORGCONNECTORS_EXPORT_DIR", str(VAR_DIR / "exports")))
ORGCONNECTORS_EXPORT_TTL_HOURS = env_int("ORGCONNECTORS_EXPORT_TTL_HOURS", 24)

# /metrics (Prometheus) answers only with this bearer token; unset, /metrics is a 404.
ORGCONNECTORS_METRICS_TOKEN = env_str("ORGCONNECTORS_METRICS_TOKEN", "")
# Where each process keeps its counts when several serve /metrics (`make serve` sets it for its
# children; prometheus-client reads the same variable itself). Unset: one process's counts.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_template_context": {"()": "orgconnectors.log_filters.NoTemplateContext"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Its DEBUG lines carry the template's whole context (tokens included): log_filters.py.
        "django.template": {"filters": ["no_template_context"]},
        # One line per request of every health check would drown everything else.
        "httpx2": {"level": "WARNING"},
        "mcp": {"level": "WARNING"},
        # These log a traceback for each malformed answer of a broken server, every few
        # minutes; the health check records the same failure on the connector instead.
        "mcp.client.streamable_http": {"level": "CRITICAL"},
        "mcp.client.sse": {"level": "CRITICAL"},
    },
}
