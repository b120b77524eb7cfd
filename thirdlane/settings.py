"""Settings for the Thirdlane portal.

Everything comes from the environment with safe development defaults; production sets
SECRET_KEY, FIELD_ENCRYPTION_KEY, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    # No JIT: the portal's statements are short, and PostgreSQL's JIT compiles a big one (the agent
    # statistics over schemas, a roll-up) for seconds when the planner over-estimates its rows.
    options: dict = {"options": env("DB_SESSION_OPTIONS", "-c jit=off")}
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": unquote(parsed.path.lstrip("/")) or "thirdlane",
        "USER": unquote(parsed.username or "postgres"),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "127.0.0.1",
        "PORT": str(parsed.port or 5432),
        "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
        "TEST": {"NAME": env("TEST_DATABASE_NAME", "test_thirdlane")},
    }


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "dev-insecure-secret-key-change-me-in-production-0123456789")
# Key for secrets the PBX needs back (SIP and AMI passwords). Falls back to SECRET_KEY in development.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", "")
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

DATABASES = {"default": database_from_url(env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thirdlane"))}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")

# --- Tenancy (django-tenants, schema per tenant) -------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "apps.tenants",
    "apps.accounts",
    "apps.events",
    "apps.audit",
    "apps.pbx",
    "apps.organizations",
    "apps.webhooks",
    "apps.sms.providers",
    "apps.exports",
    "apps.provisioning.registry",
    "thirdlane.admin_sites.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "import_export",
]
# contenttypes is deliberately shared only: one django_content_type table (public) that every
# schema sees, so admin LogEntry rows and any generic relation agree on ids across schemas.
TENANT_APPS = [
    "apps.telephony",
    "apps.crm",
    "apps.calls",
    "apps.sms",
    "apps.reports",
    "apps.billing",
    "apps.hooks",
    "apps.sounds",
    "apps.provisioning",
]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# Only issue SET search_path when the schema actually changes (one round trip saved per query).
TENANT_LIMIT_SET_CALLS = True
# New tenants are made from this template schema (kept migrated and empty) or from the pool.
TENANT_TEMPLATE_SCHEMA = env("TENANT_TEMPLATE_SCHEMA", "_tenant_template")
TENANT_BASE_SCHEMA = TENANT_TEMPLATE_SCHEMA
TENANT_CREATION_FAKES_MIGRATIONS = True
# Spare, already-migrated schemas kept ready so creating a tenant is a rename, at any tenant count.
TENANT_SCHEMA_POOL_SIZE = env_int("TENANT_SCHEMA_POOL_SIZE", 3)

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "thirdlane.middleware.RequestIdMiddleware",
    "thirdlane.ratelimit.middleware.RateLimitHeadersMiddleware",
    "thirdlane.middleware.SchemaResetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "thirdlane.middleware.TenantAdminMiddleware",
]

ROOT_URLCONF = "thirdlane.urls"
WSGI_APPLICATION = "thirdlane.wsgi.application"

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
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = [h for h in [
    # Tests set FAST_PASSWORD_HASHER so fixtures do not spend seconds on PBKDF2.
    "django.contrib.auth.hashers.MD5PasswordHasher" if env_bool("FAST_PASSWORD_HASHER") else None,
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
] if h]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", str(BASE_DIR / ".local" / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served by Django itself (thirdlane.urls) so the one-command run and the image need no extra server.
SERVE_STATIC = env_bool("SERVE_STATIC", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Request bodies: the API answers 413 problem+json above this (per view override for uploads).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 60 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "thirdlane.api.auth.ApiKeyAuthentication",
        "thirdlane.api.auth.BasicAuthentication",
        "thirdlane.api.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["thirdlane.api.permissions.IsAuthenticatedPrincipal"],
    "DEFAULT_PAGINATION_CLASS": "thirdlane.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "thirdlane.api.filters.StrictFilterBackend",
        "thirdlane.api.filters.StrictSearchFilter",
        "thirdlane.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["thirdlane.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["thirdlane.ratelimit.throttle.ApiRateThrottle"],
    "EXCEPTION_HANDLER": "thirdlane.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "thirdlane.api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_PAGE_MAX_LIMIT = 1000
API_KEY_ROTATION_GRACE = timedelta(hours=env_int("API_KEY_ROTATION_GRACE_HOURS", 24))
# last_used_at is written at most this often per key, so reads do not turn into writes.
API_KEY_LAST_USED_RESOLUTION = timedelta(seconds=60)

# --- Rate limits (thirdlane.ratelimit; docs/api.md "Rate limits") -------------------------
# Kept in Redis, shared by every web worker. Keys (ApiKey.rate_limit) and resellers
# (Reseller.api_rate_limit) can override the per-credential and per-tenant defaults.
RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", True)
RATE_LIMIT_PER_CREDENTIAL = env_int("RATE_LIMIT_PER_CREDENTIAL", 1200)  # requests per window
RATE_LIMIT_PER_TENANT = env_int("RATE_LIMIT_PER_TENANT", 2400)
RATE_LIMIT_WINDOW = env_int("RATE_LIMIT_WINDOW", 60)  # seconds
RATE_LIMIT_REDIS_URL = env("RATE_LIMIT_REDIS_URL", "")  # empty: REDIS_URL
# Failed sign-ins (HTTP Basic and the admin) before further attempts wait out the window.
LOGIN_FAILURES_PER_USERNAME = env_int("LOGIN_FAILURES_PER_USERNAME", 10)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 30)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 300)  # seconds
# Reverse proxies in front of the web process that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Thirdlane portal API",
    "DESCRIPTION": (
        "Provisioning API of the Thirdlane hosted PBX platform: tenants, telephony, CRM, "
        "organizations and webhooks. Authenticate with `X-API-Key`, HTTP Basic or the session "
        "cookie. Lists take `limit`/`offset` and return the total in `X-Total-Count`. Every "
        "error is RFC 9457 problem+json with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "thirdlane.api.schema.postprocess",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CampaignMemberStatusEnum": "apps.crm.models.CampaignMember.Status",
        "ImportModeEnum": "apps.crm.models.ImportJob.Mode",
        "RecordingPolicyEnum": "apps.telephony.models.Recording",
        "TimeConditionOverrideEnum": "apps.telephony.models.TimeCondition.Override",
        # The call direction keeps the name it had before SMS messages added a second "direction" set.
        "DirectionEnum": "apps.calls.models.Call.Direction",
        "SmsDirectionEnum": "apps.sms.models.SmsMessage.Direction",
        "SmsStatusEnum": "apps.sms.models.SmsMessage.Status",
        "SmsReceiptStatusEnum": [("sent", "sent"), ("delivered", "delivered"), ("failed", "failed")],
        # Call records' status, and the status of jobs (call control, export runs: the same set).
        "CallStatusEnum": "apps.calls.models.Call.Status",
        "JobStatusEnum": "apps.exports.models.ExportRun.Status",
    },
    "SERVERS": [],
}

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "thirdlane.celery:BeatScheduler"
CELERY_BEAT_SCHEDULE: dict = {
    "tenants-fill-schema-pool": {"task": "tenants.fill_schema_pool", "schedule": 60.0},
    "worker-heartbeat": {"task": "core.heartbeat", "schedule": 15.0},
}

# --- PBX ---------------------------------------------------------------------------------
# Where Asterisk reaches `manage.py agi_serve` (agi://host:4573); empty: no CRM caller-name look-up
# in the rendered dialplan.
PBX_AGI_URL = env("PBX_AGI_URL", "")
# Call control (apps.calls): tries while a PBX's AMI is unreachable (backoff base, 2x, 4x ...), then the
# job fails with pbx_unreachable; a job still waiting after CALL_CONTROL_EXPIRE seconds fails as expired.
CALL_CONTROL_MAX_RETRIES = env_int("CALL_CONTROL_MAX_RETRIES", 3)
CALL_CONTROL_RETRY_BASE = float(env("CALL_CONTROL_RETRY_BASE", "1.0"))
CALL_CONTROL_EXPIRE = env_int("CALL_CONTROL_EXPIRE", 120)

# --- Sound files (apps.sounds; docs/sounds.md) ---------------------------------------------
# Uploads and their converted files (8 kHz mono 16-bit WAV and mu-law, what Asterisk plays).
SOUNDS_MEDIA_DIR = env("SOUNDS_MEDIA_DIR", str(BASE_DIR / ".local" / "sounds"))
SOUNDS_MAX_UPLOAD_BYTES = env_int("SOUNDS_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
SOUNDS_MAX_PROMPT_SECONDS = env_int("SOUNDS_MAX_PROMPT_SECONDS", 300)  # an IVR greeting or announcement
SOUNDS_MAX_MOH_SECONDS = env_int("SOUNDS_MAX_MOH_SECONDS", 1800)  # one music-on-hold file
SOUNDS_MAX_PER_TENANT = env_int("SOUNDS_MAX_PER_TENANT", 500)
SOUNDS_TTS_LANGUAGE = env("SOUNDS_TTS_LANGUAGE", "en-us")  # eSpeak NG language of IVR prompts and TTS defaults
SOUNDS_TTS_MAX_CHARS = env_int("SOUNDS_TTS_MAX_CHARS", 2000)
SOUNDS_TOOL_TIMEOUT = env_int("SOUNDS_TOOL_TIMEOUT", 300)  # seconds one sox / espeak-ng run may take
SOUNDS_SOX = env("SOUNDS_SOX", "sox")  # the tools, on PATH unless a path is given
SOUNDS_ESPEAK = env("SOUNDS_ESPEAK", "espeak-ng")
# Played by an IVR whose own prompt is not on the server yet (a file of Asterisk's core sounds).
SOUNDS_STOCK_PROMPT = env("SOUNDS_STOCK_PROMPT", "enter-ext-of-person")

# --- SMS (apps.sms; docs/sms.md) ----------------------------------------------------------
# Tries while an adapter is down or answers 5xx (backoff SMS_RETRY_BASE s, 2x, 4x ...), then failed.
SMS_MAX_RETRIES = env_int("SMS_MAX_RETRIES", 5)
SMS_RETRY_BASE = float(env("SMS_RETRY_BASE", "2.0"))
SMS_RATE_PER_TENANT = env_int("SMS_RATE_PER_TENANT", 600)  # outbound messages a minute per tenant
SMS_INBOUND_RATE_PER_PROVIDER = env_int("SMS_INBOUND_RATE_PER_PROVIDER", 60000)  # inbound posts a minute; 0: off
SMS_RETENTION_DAYS = env_int("SMS_RETENTION_DAYS", 0)  # messages kept (0: forever); queued ones never purged
SMS_OUTBOUND_REF_RETENTION_DAYS = env_int("SMS_OUTBOUND_REF_RETENTION_DAYS", 30)  # the receipts' outbound index
SMS_BATCH_SIZE = env_int("SMS_BATCH_SIZE", 50)  # queued messages a worker claims at once (one transaction)
SMS_SEND_THREADS = env_int("SMS_SEND_THREADS", 8)  # parallel POSTs to adapters within a batch

# --- Billing exports (apps.exports; docs/billing.md) -----------------------------------------
# Each run's file is kept here for download from the admin and the API.
EXPORT_FILES_DIR = env("EXPORT_FILES_DIR", str(BASE_DIR / ".local" / "exports" / "runs"))
# "Directory on the server" destinations are folders inside this one (never an arbitrary path).
EXPORT_DIRECTORY_ROOT = env("EXPORT_DIRECTORY_ROOT", str(BASE_DIR / ".local" / "exports" / "out"))
# Destinations on loopback/private/link-local networks are refused, like webhook targets, unless set.
EXPORT_ALLOW_PRIVATE_TARGETS = env_bool("EXPORT_ALLOW_PRIVATE_TARGETS", False)
EXPORT_RETRY_BASE = float(env("EXPORT_RETRY_BASE", "30"))  # seconds before the 2nd attempt; then x4
# A running run whose worker has not reported for this long is taken over by the next dispatch.
EXPORT_STALE_SECONDS = env_int("EXPORT_STALE_SECONDS", 600)

# --- Phone provisioning (apps.provisioning; docs/provisioning.md) -------------------------------
# The URL phones are given (and keep re-provisioning from), e.g. https://prov.example.com/provisioning/;
# empty: the address the request came to.
PROVISIONING_BASE_URL = env("PROVISIONING_BASE_URL", "")
# Directories searched before the shipped templates (apps/provisioning/templates/provisioning/...):
# an operator's templates replace shipped ones or add model-specific ones. Separated by ":".
PROVISIONING_TEMPLATE_DIRS = [d for d in env("PROVISIONING_TEMPLATE_DIRS", "").split(":") if d]
# More models for the known vendors: "yealink:T58A:16,polycom:VVX601:16" (vendor:MODEL:lines).
PROVISIONING_EXTRA_MODELS = env("PROVISIONING_EXTRA_MODELS", "")
# HTTP Basic sends the password in the clear: accepted on plain HTTP only when this is set
# (digest is always accepted; TLS is the operator's reverse proxy, see SECURE_PROXY_SSL_HEADER).
PROVISIONING_BASIC_OVER_HTTP = env_bool("PROVISIONING_BASIC_OVER_HTTP", False)
# After a password change the previous one keeps working this long (the phone learns the new one
# from the next file it fetches with the old one); the API's regenerate action can say 0.
PROVISIONING_CREDENTIAL_GRACE_HOURS = env_int("PROVISIONING_CREDENTIAL_GRACE_HOURS", 24)
PROVISIONING_REALM = env("PROVISIONING_REALM", "Thirdlane provisioning")
PROVISIONING_NTP_SERVER = env("PROVISIONING_NTP_SERVER", "pool.ntp.org")
PROVISIONING_REGISTER_EXPIRES = env_int("PROVISIONING_REGISTER_EXPIRES", 600)  # seconds a phone registers for
PROVISIONING_RESYNC_MINUTES = env_int("PROVISIONING_RESYNC_MINUTES", 1440)  # how often phones fetch again
# Failed authentications from one address before it waits out the window (429).
PROVISIONING_FAILURES_PER_IP = env_int("PROVISIONING_FAILURES_PER_IP", 30)
PROVISIONING_FAILURE_WINDOW = env_int("PROVISIONING_FAILURE_WINDOW", 300)
if env("SECURE_PROXY_SSL_HEADER", ""):  # e.g. "HTTP_X_FORWARDED_PROTO" behind a TLS-terminating proxy
    SECURE_PROXY_SSL_HEADER = (env("SECURE_PROXY_SSL_HEADER", ""), "https")

# --- Webhooks ------------------------------------------------------------------------------
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# A queue of their own keeps slow receivers from delaying imports and config pushes
# (run a worker with -Q <name>); empty: Celery's default queue.
WEBHOOK_QUEUE = env("WEBHOOK_QUEUE", "") or None
WEBHOOK_RETENTION_DAYS = env_int("WEBHOOK_RETENTION_DAYS", 30)

# --- Real-time event stream (apps.events.stream; docs/api.md "Real-time event stream") -----
# Served by the stream process (uvicorn thirdlane.asgi). The web process answers the stream path
# with 421 event_stream_elsewhere and this address (e.g. https://stream.example.com); empty: none.
EVENT_STREAM_URL = env("EVENT_STREAM_URL", "")
EVENT_STREAM_NUDGE = env_bool("EVENT_STREAM_NUDGE", True)  # PUBLISH after each commit that wrote events
EVENT_STREAM_POLL_INTERVAL = float(env("EVENT_STREAM_POLL_INTERVAL", "1.0"))  # seconds, without a nudge
EVENT_STREAM_BATCH_WINDOW = float(env("EVENT_STREAM_BATCH_WINDOW", "0.05"))  # seconds a nudge waits for more
EVENT_STREAM_HEARTBEAT = float(env("EVENT_STREAM_HEARTBEAT", "15"))  # seconds between comment lines
EVENT_STREAM_CLIENT_BUFFER = env_int("EVENT_STREAM_CLIENT_BUFFER", 512 * 1024)  # bytes queued per client
EVENT_STREAM_SEND_TIMEOUT = float(env("EVENT_STREAM_SEND_TIMEOUT", "30"))  # a client that reads nothing
EVENT_STREAM_READY_TIMEOUT = float(env("EVENT_STREAM_READY_TIMEOUT", "10"))

# --- Logging: structured, with request id and tenant; secrets masked ---------------------
LOG_LEVEL = env("LOG_LEVEL", "INFO")
LOG_FORMAT = env("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "thirdlane.logging.ContextFilter"}},
    "formatters": {
        "json": {"()": "thirdlane.logging.JsonFormatter"},
        "text": {"()": "thirdlane.logging.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "text") else "json",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"level": "ERROR"},
    },
}
