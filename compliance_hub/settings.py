"""Settings for Compliance Hub, driven by environment variables.

DJANGO_ENV chooses the profile: ``local`` (default: safe local defaults, the private stack that
``make run`` starts), ``test`` (the test suite) or ``production`` (everything secret must come
from the environment; passes ``manage.py check --deploy``). DEBUG is off in every profile
unless DJANGO_DEBUG=1 asks for it.

Locally, the private PostgreSQL and Redis started by ``scripts/stack.sh`` are found through
``.stack/env``, so ``.venv/bin/python manage.py <command>`` works with no extra environment.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, overload

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DJANGO_ENV = os.environ.get("DJANGO_ENV", "local")
if DJANGO_ENV not in {"local", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be local, test or production, not {DJANGO_ENV!r}")
IS_PRODUCTION = DJANGO_ENV == "production"


def _stack_env() -> dict[str, str]:
    """Values written by scripts/stack.sh for the private local stack (never in production)."""
    instance = "test" if DJANGO_ENV == "test" else None
    path = BASE_DIR / ".stack" / (f"{instance}/env" if instance else "env")
    if IS_PRODUCTION or not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


_STACK = _stack_env()


# With a default the setting is always there; without one it may be missing (None).
@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: None = None) -> str | None: ...
def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, _STACK.get(name, default))


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


def required(name: str, local_default: str) -> str:
    value = env(name)
    if value:
        return value
    if IS_PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return local_default


SECRET_KEY = required("DJANGO_SECRET_KEY", "local-only-insecure-key-" + "x" * 40)
# Fernet keys for secrets at rest, comma-separated, newest first (compliance_hub/crypto.py).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if IS_PRODUCTION and not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set in production")
# Off unless asked for by name, in every profile: the debug page shows the settings (database URLs
# with their passwords) to whoever makes a request fail, and `make run` is reachable by others.
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "" if IS_PRODUCTION else "127.0.0.1,localhost,[::1]"
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # compliance_hub first: its `migrate` command (runs as the owner role, grants the app role)
    # overrides Django's.
    "compliance_hub",
    "consent",
    "ingestion",
    "archive",
    "policies",
    "alerts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served by us, not from a CDN
]

MIDDLEWARE = [
    # Meta's webhook deliveries leave the chain here, straight to their view (see the module).
    "ingestion.middleware.WebhookFastLaneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "compliance_hub.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Opens the request's transaction and sets the tenant inside it (RLS needs both).
    "compliance_hub.tenancy.middleware.TenantMiddleware",
    "compliance_hub.accounts.middleware.RequireMFAMiddleware",
    # Inside the tenant middleware: reading the person's zone is a query, and a database
    # outage must still give the tenant middleware's 503, not a 500.
    "compliance_hub.accounts.middleware.TimeZoneMiddleware",
]

ROOT_URLCONF = "compliance_hub.urls"
WSGI_APPLICATION = "compliance_hub.wsgi.application"

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
                "django.template.context_processors.tz",  # TIME_ZONE: the person's own
                "compliance_hub.tenancy.context_processors.tenancy",
            ],
        },
    }
]

# --- Database: the application connects as a role that owns nothing (RLS applies to it);
# migrations run as the owner role (see compliance_hub/management/commands/migrate.py).
DATABASE_URL = required("DATABASE_URL", "postgres://ch_app:ch_app@127.0.0.1:5432/compliance_hub")
DATABASE_OWNER_URL = env("DATABASE_OWNER_URL") or DATABASE_URL
DB_APP_ROLE = env("DB_APP_ROLE", "ch_app")
_owner = dj_database_url.parse(DATABASE_OWNER_URL)
DB_OWNER_CREDENTIALS = {"USER": _owner["USER"], "PASSWORD": _owner["PASSWORD"]}

if DJANGO_ENV == "test":
    # pytest-django creates the test database as this connection's user, so tests connect as the
    # owner and switch to the application role with SET ROLE (tests/conftest.py).
    DATABASES = {"default": dj_database_url.parse(DATABASE_OWNER_URL)}
else:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=int(env("DB_CONN_MAX_AGE", "60")), conn_health_checks=True
        )
    }
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
# No JIT compilation: PostgreSQL starts it for any plan that looks expensive, and for a month of
# archive search over every employee it spent 1 to 2 s compiling to save less (measured at 10
# million messages: p50 3.9 s with it, 2.5 s without; docs/scaling.md). Our queries are short.
DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
if _database_name := env("DATABASE_NAME"):
    DATABASES["default"]["NAME"] = _database_name
# When set, every new connection switches to this role first (SET ROLE). Only the test suite and
# the Celery worker it starts use it: they connect as the owner, who created the test database.
DB_SET_ROLE = env("DB_SET_ROLE", "")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, cache (rate limits, TOTP replay protection), sessions stay in the DB.
REDIS_URL = required("REDIS_URL", "redis://127.0.0.1:6379/0")
# The cache (rate limits, TOTP replay marks) uses its own Redis database, so clearing it never
# touches Celery's queues.
REDIS_CACHE_URL = env("REDIS_CACHE_URL") or REDIS_URL.rsplit("/", 1)[0] + "/1"
# pytest-xdist runs the suite in worker processes gw0, gw1, ... against one Redis (each already has
# its own test database, named by pytest-django). Each worker gets a broker and a cache database of
# its own (2 and 3 for gw0, 4 and 5 for gw1, ...), so one worker's cache.clear() or Celery worker
# never touches another's, and its own prefix for pub/sub channels, which span all databases. The
# processes a test starts (Celery worker, gunicorn) inherit the variable and land on the same ones.
TEST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "") if DJANGO_ENV == "test" else ""
REDIS_CHANNEL_PREFIX = f"test-{TEST_WORKER}:" if TEST_WORKER else ""
if TEST_WORKER:
    _worker_number = int(TEST_WORKER.removeprefix("gw"))
    if _worker_number > 6:
        raise ImproperlyConfigured(
            f"at most 7 test workers share one Redis (16 databases); {TEST_WORKER} is one too many"
        )
    _redis_server = REDIS_URL.rsplit("/", 1)[0]
    REDIS_URL = f"{_redis_server}/{2 + 2 * _worker_number}"
    REDIS_CACHE_URL = f"{_redis_server}/{3 + 2 * _worker_number}"
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": "ch-test" if DJANGO_ENV == "test" else "ch",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
}

# --- Auth: django-allauth, email login, MFA (TOTP + recovery codes) required for every role.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if DJANGO_ENV == "test":
    # Tests log in hundreds of times; the production hasher's cost is the point elsewhere.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"  # invitations prove the address; open sign-up is closed
ACCOUNT_ADAPTER = "compliance_hub.accounts.adapter.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
# How many reverse proxies of ours stand in front of gunicorn, each appending to X-Forwarded-For
# (0: the header is ignored, the TCP peer is the client). One rule for every address we record
# or limit by: compliance_hub.audit.actors.client_ip, which allauth uses too.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0") or "0")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Failed passwords (compliance_hub/accounts/throttle.py): 5 per 5 minutes for one account from
# one address (the person mistyping), 20 per 15 minutes for one account from anywhere (guessing
# from many addresses), and a ceiling per address alone high enough for a whole firm behind one
# office address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "100/5m/ip,20/15m/key",
    "login_failed_address_account": "5/5m/key",
    "login": "300/m/ip",
    "reset_password": "5/m/ip,3/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Compliance Hub"
MFA_RECOVERY_CODE_COUNT = 10
# One 30-second step either side (RFC 6238 section 5.2): phone clocks drift and people type slowly.
MFA_TOTP_TOLERANCE = 1
MFA_ADAPTER = "compliance_hub.accounts.mfa_adapter.MFAAdapter"
MFA_FORMS = {"activate_totp": "compliance_hub.accounts.mfa_forms.StableActivateTOTPForm"}

SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(8 * 60 * 60)))  # a working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Meta sends at most 3 MB per delivery; anything larger is refused before it is read.
WEBHOOK_MAX_BODY_BYTES = int(env("WEBHOOK_MAX_BODY_BYTES", str(4 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES + 1024 * 1024
# The webhook wakes a tenant's drain at most once per this many seconds per server process
# (ingestion/wakeup.py: wake_drain_soon), and never later than this after a commit. 0: after
# every delivery, as the tests that watch a single wake-up expect (their own tests set it).
WEBHOOK_WAKE_WINDOW_SECONDS = float(
    env("WEBHOOK_WAKE_WINDOW_SECONDS", "0" if DJANGO_ENV == "test" else "0.05")
)
# Deliveries a drain claims and archives as one unit (ingestion/processing.py), and the most
# their bodies may weigh together (one delivery is always taken, however big).
INGESTION_DRAIN_BATCH = int(env("INGESTION_DRAIN_BATCH", "100") or "100")
INGESTION_DRAIN_BATCH_BYTES = int(
    env("INGESTION_DRAIN_BATCH_BYTES", str(16 * 1024 * 1024)) or str(16 * 1024 * 1024)
)
GRAPH_API_BASE_URL = env("GRAPH_API_BASE_URL", "https://graph.facebook.com/v23.0")
GRAPH_API_TIMEOUT_SECONDS = float(env("GRAPH_API_TIMEOUT_SECONDS", "30") or "30")
# Hosts whose media `url` (sent in the webhook since 2025-11) may receive the access token; any
# other URL is ignored and a fresh one is asked of the Graph API. Loopback serves the tests' fake.
GRAPH_MEDIA_URL_HOSTS = env_list(
    "GRAPH_MEDIA_URL_HOSTS",
    "lookaside.fbsbx.com" if IS_PRODUCTION else "lookaside.fbsbx.com,127.0.0.1,localhost",
)
INVITATION_TTL = timedelta(days=int(env("INVITATION_TTL_DAYS", "7")))

# --- i18n
LANGUAGE_CODE = "en"
# The one list of languages: the employee-facing pages and emails (gettext catalogues under
# locale/), the employee's language choices (consent.models.Language) and the notice texts.
# Each name is written in its own language, as a language switch shows it.
LANGUAGES = [
    ("en", "English"),
    ("pt-br", "Português (Brasil)"),
    ("es", "Español"),
    ("hi", "हिन्दी"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# No LocaleMiddleware: the staff pages are English, and the employee's pages and emails take
# the employee's recorded language (translation.override in consent/), not the browser's.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: served by whitenoise, never from a CDN.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Each backend's OPTIONS hold mixed values (strings, numbers, flags).
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
# Archived media (ingestion/media.py): the filesystem under MEDIA_ROOT by default; in production
# MEDIA_STORAGE=s3 keeps it in an S3-compatible bucket through django-storages. Credentials may
# be left out to use the machine's role (boto3's usual chain). Objects are never overwritten.
MEDIA_STORAGE = env("MEDIA_STORAGE", "filesystem")
if MEDIA_STORAGE == "s3":
    if not env("MEDIA_S3_BUCKET"):
        raise ImproperlyConfigured("MEDIA_S3_BUCKET must be set when MEDIA_STORAGE=s3")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("MEDIA_S3_BUCKET"),
            "endpoint_url": env("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": env("MEDIA_S3_REGION") or None,
            "access_key": env("MEDIA_S3_ACCESS_KEY_ID") or None,
            "secret_key": env("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            "location": env("MEDIA_S3_PREFIX", ""),
            "addressing_style": env("MEDIA_S3_ADDRESSING_STYLE") or None,  # "path" for MinIO
            "default_acl": None,  # private: the bucket's policy decides
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 300,
        },
    }
elif MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be filesystem or s3, not {MEDIA_STORAGE!r}")

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", IS_PRODUCTION)
# The file backend's folder (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Compliance Hub <no-reply@localhost>")

# --- API: DRF + drf-spectacular.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "compliance_hub.api.authentication.ApiKeyAuthentication",
        "compliance_hub.api.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["compliance_hub.api.permissions.HasTenantRole"],
    "DEFAULT_PAGINATION_CLASS": "compliance_hub.api.pagination.StandardPagination",
    "DEFAULT_PARSER_CLASSES": [
        "compliance_hub.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_METADATA_CLASS": "compliance_hub.api.metadata.RoleMetadata",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["compliance_hub.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "compliance_hub.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["compliance_hub.api.throttling.TenantRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "tenant": env("API_THROTTLE_RATE", "600/min"),
        # Trying a policy on a text (policies/api/views.py): CPU-heavy, so fewer per key.
        "policy_trial": env("API_TRIAL_THROTTLE_RATE", "60/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Compliance Hub API",
    "DESCRIPTION": "WhatsApp compliance: consent, archive, policies, alerts. "
    "Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "compliance_hub.api.authentication.ApiKeyAuthentication",
        "compliance_hub.api.authentication.TenantSessionAuthentication",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "Authorization"}}
    },
    "SECURITY": [{"ApiKey": []}],
    # Serializers with a field named "status" of other choices: each set gets its own name
    # (a path, read when the schema is made, never when settings load).
    "ENUM_NAME_OVERRIDES": {
        "LegalHoldStatusEnum": "archive.holds.models.LegalHold.Status",
        "AlertStatusEnum": "alerts.models.Status",
    },
    # Request bodies are documented as JSON; the few that take files say multipart themselves.
    "PARSER_WHITELIST": ["compliance_hub.api.parsers.JSONParser"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "compliance_hub.api.schema.document_error_responses",
    ],
}

# --- Archive ledger (archive/ledger/): each tenant's Merkle log is checkpointed (signed with
# the tenant's Ed25519 key) every LEDGER_CHECKPOINT_INTERVAL seconds when it grew, and at least
# every LEDGER_CHECKPOINT_MAX_AGE seconds anyway; each checkpoint is copied to the anchors.
LEDGER_CHECKPOINT_INTERVAL = int(env("LEDGER_CHECKPOINT_INTERVAL", "60"))
LEDGER_CHECKPOINT_MAX_AGE = int(env("LEDGER_CHECKPOINT_MAX_AGE", "300"))
# verify_archive tolerates a checkpoint this recent not being anchored yet (the anchoring step
# runs right after the checkpoint's transaction commits).
LEDGER_ANCHOR_GRACE = int(env("LEDGER_ANCHOR_GRACE", "600"))
# Anchors outside the database: "folder" and "s3" (a bucket with Object Lock, COMPLIANCE mode;
# archive/ledger/anchors.py). In production use s3, or point LEDGER_ANCHOR_DIR at storage the
# database's administrators cannot write (a WORM mount).
LEDGER_ANCHORS = env_list("LEDGER_ANCHORS", "folder")
LEDGER_ANCHOR_DIR = Path(
    env("LEDGER_ANCHOR_DIR")
    # Tests: a folder of this process's own, so no run sees another run's checkpoints.
    or (
        str(Path(tempfile.gettempdir()) / f"ch-ledger-anchors-{os.getpid()}-{secrets.token_hex(4)}")
        if DJANGO_ENV == "test"
        else str(BASE_DIR / ".stack" / "ledger-anchors")
    )
)
if IS_PRODUCTION and "folder" in LEDGER_ANCHORS and not env("LEDGER_ANCHOR_DIR"):
    # The local default lives beside the code; in production a silent default would put the
    # anchors where whoever runs the servers can rewrite them.
    raise ImproperlyConfigured(
        "LEDGER_ANCHOR_DIR must be set in production when LEDGER_ANCHORS includes folder "
        "(storage the database's administrators cannot write), or use LEDGER_ANCHORS=s3"
    )
# The ML classifiers' model artifacts (policies/ml/artifact.py), written by `manage.py
# train_models`; never committed. Without an active artifact, scoring trains the built-in model
# from the shipped corpus on first use. Tests: a folder of this process's own.
MODELS_DIR = Path(
    env("MODELS_DIR")
    or (
        str(Path(tempfile.gettempdir()) / f"ch-models-{os.getpid()}-{secrets.token_hex(4)}")
        if DJANGO_ENV == "test"
        else str(BASE_DIR / ".stack" / "models")
    )
)
# The corpus the built-in model and firms' retraining read; empty: the shipped one
# (policies/ml/corpus/). Tests point it at a tiny corpus so a training takes a second.
ML_CORPUS_DIR = env("ML_CORPUS_DIR", "")
# The learning loop (docs/alerts.md, "Learning"): a firm's decided alert counts as this many
# corpus lines; a new model may not lower any category's F1 by more than the margin.
LEARNING_FIRM_WEIGHT = float(env("LEARNING_FIRM_WEIGHT", "3"))
LEARNING_CATEGORY_MARGIN = float(env("LEARNING_CATEGORY_MARGIN", "0.02"))
LEDGER_S3_BUCKET = env("LEDGER_S3_BUCKET", "")
LEDGER_S3_PREFIX = env("LEDGER_S3_PREFIX", "checkpoints/")
LEDGER_S3_RETENTION_DAYS = int(env("LEDGER_S3_RETENTION_DAYS", str(7 * 366)))
LEDGER_S3_ENDPOINT_URL = env("LEDGER_S3_ENDPOINT_URL", "")  # S3-compatible services; AWS: empty
# An RFC 3161 time-stamping authority for every anchored checkpoint (archive/ledger/
# timestamping.py): while it cannot be reached, checkpoints wait un-anchored and are retried.
LEDGER_TSA_URL = env("LEDGER_TSA_URL", "")
LEDGER_TSA_TIMEOUT = float(env("LEDGER_TSA_TIMEOUT", "10"))
# SHA-256 (hex) of the TSA's signing certificate (DER): tokens signed by any other are refused.
LEDGER_TSA_CERT_SHA256 = env("LEDGER_TSA_CERT_SHA256", "")

# --- Celery
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # only tasks proven idempotent run here; see compliance_hub/celery.py
# Celery's Django fixup closes the database connection around every task unless this is set;
# a new connection costs a SCRAM handshake (~10 ms of CPU on both sides), more than a delivery
# costs to process. Connections are still recycled after this many tasks and by CONN_MAX_AGE.
CELERY_DB_REUSE_MAX = 500
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"ingestion.*": {"queue": "ingestion"}}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Reconnects when Redis goes away with messages in hand, where Celery's own consumer exits.
CELERY_WORKER_CONSUMER = "compliance_hub.celery_consumer:Consumer"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "ingestion-sweep": {
        "task": "ingestion.sweep_deliveries",
        "schedule": timedelta(minutes=1),
    },
    # Every archived message is scanned: what the drain's after-commit scan missed.
    "sweep-unscanned-messages": {
        "task": "policies.sweep_unscanned",
        "schedule": timedelta(minutes=1),
    },
    # Backtests and lookbacks whose worker went silent are failed, not left "running".
    "policies-sweep-stale-jobs": {
        "task": "policies.sweep_stale_jobs",
        "schedule": timedelta(minutes=5),
    },
    # Every hit gets an alert: what the after-scan receiver missed.
    "alerts-sweep-missing": {
        "task": "alerts.sweep_missing",
        "schedule": timedelta(minutes=1),
    },
    # Claims nobody touched return to the queue.
    "alerts-expire-claims": {
        "task": "alerts.expire_claims",
        "schedule": timedelta(minutes=1),
    },
    # Alerts past their due time tell whoever is responsible, once (alerts/notify/).
    "alerts-notify-overdue": {
        "task": "alerts.notify_overdue",
        "schedule": timedelta(minutes=5),
    },
    # The dashboard's kept days that a late scan changed are dropped (alerts/stats_days.py).
    "alerts-stats-days": {
        "task": "alerts.forget_scanned_days",
        "schedule": timedelta(minutes=5),
    },
    # The daily digest of notifications for those who chose it, 07:00 UTC.
    "alerts-send-digests": {
        "task": "alerts.send_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    "ingestion-requeue-missing-media": {
        "task": "ingestion.requeue_missing_media",
        "schedule": timedelta(minutes=2),
    },
    "consent-expire-overdue": {
        "task": "consent.expire_overdue_all",
        "schedule": timedelta(minutes=15),
    },
    "worker-heartbeat": {
        "task": "compliance_hub.heartbeat",
        "schedule": timedelta(minutes=1),
    },
    # Retention disposition (archive/retention/disposition.py), daily at 02:30 UTC: quiet hours
    # for most firms; a run is idempotent, so a missed day is done by the next.
    "archive-dispose-records": {
        "task": "archive.dispose_all_records",
        "schedule": crontab(hour=2, minute=30),
    },
    "archive-checkpoint-logs": {
        "task": "archive.checkpoint_all_logs",
        "schedule": timedelta(seconds=LEDGER_CHECKPOINT_INTERVAL),
    },
    "archive-expire-exports": {
        "task": "archive.expire_all_exports",
        "schedule": timedelta(minutes=15),
    },
}

# --- Alerts
# Review due times per severity (hours from the alert's creation): settings-wide defaults for
# now, a tenant's own later.
ALERTS_SLA_HOURS = {"critical": 4, "high": 24, "medium": 72, "low": 168}
# The queue's default order is risk = weight x score.
ALERTS_SEVERITY_WEIGHTS = {"low": 1.0, "medium": 2.0, "high": 3.0, "critical": 4.0}
# Alerts of one conversation within this window are grouped for one review.
ALERTS_GROUP_WINDOW = timedelta(minutes=int(os.environ.get("ALERTS_GROUP_WINDOW_MINUTES", "60")))
# A claim untouched for this long returns the alert to the queue.
ALERTS_CLAIM_TIMEOUT = timedelta(minutes=int(os.environ.get("ALERTS_CLAIM_TIMEOUT_MINUTES", "30")))
# The most alerts one bulk change may touch (each is its own transaction: a click must answer).
ALERTS_BULK_MAX = int(os.environ.get("ALERTS_BULK_MAX", "500"))

# --- Security
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every script, style, image and font is ours (compliance_hub/security_headers.py); the QR code
# of the authenticator set-up is a data: image; media (voice notes, video) are our previews.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    # Photos, voice notes and video of the conversation page, served by the archive's previews.
    "media-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
AUTH_USER_MODEL = "compliance_hub.User"
# Exports (archive/exporting/): a finished export's file is deleted this many days after it was
# ready; a download link (signed, bound to the export and the person) lasts this many seconds.
EXPORT_RETENTION_DAYS = int(env("EXPORT_RETENTION_DAYS", "7") or "7")
EXPORT_LINK_MAX_AGE = int(env("EXPORT_LINK_MAX_AGE", "3600") or "3600")
# A running export whose progress has not moved for this long lost its worker (killed, OOM):
# the expiry beat marks it failed so it does not show "Preparing" forever.
EXPORT_STALL_MINUTES = int(env("EXPORT_STALL_MINUTES", "30") or "30")
# An export of at least EXPORT_PARTS_FROM messages is written by EXPORT_PARTS processes (at most
# the machine's cores), one per range of conversations (archive/exporting/parts.py); each holds
# Django and a chunk of rows (~100 MB), so a worker machine needs that much per part.
EXPORT_PARTS = int(env("EXPORT_PARTS", "2") or "2")
EXPORT_PARTS_FROM = int(env("EXPORT_PARTS_FROM", "20000") or "20000")
# Backtests and lookbacks (policies/runs.py): a run covers at most this many days and messages
# (a year of a busy firm; at the measured backtest speed the cap is a few minutes of a worker).
POLICY_RUN_MAX_DAYS = int(env("POLICY_RUN_MAX_DAYS", "366") or "366")
POLICY_RUN_MAX_MESSAGES = int(env("POLICY_RUN_MAX_MESSAGES", "1000000") or "1000000")
SITE_URL = env("SITE_URL", "http://127.0.0.1:" + (env("PORT", "8000") or "8000"))
# How long the WhatsApp page's connection check waits for a worker to process its test delivery.
WHATSAPP_CHECK_PROCESSING_WAIT = float(env("WHATSAPP_CHECK_PROCESSING_WAIT", "5") or "5")
