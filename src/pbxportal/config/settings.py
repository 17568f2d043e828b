"""One settings module, driven by the environment (12-factor).

The embedded default (no environment at all) is SQLite, eager Celery, mail to the console and
a development secret. ``PBXPORTAL_ENV=production`` refuses the development secret and requires
an explicit DATABASE_URL; see ``pbxportal check-config`` and docs/deployment.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from pbxportal.ops.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PBXPORTAL_DATA_DIR", Path.cwd() / "var")).resolve()

DEV_SECRET_KEY = "dev-insecure-pbxportal-secret-key-change-me"
ENV = os.environ.get("PBXPORTAL_ENV", "development")
PRODUCTION = ENV == "production"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = os.environ.get("DEBUG", "0" if PRODUCTION else "1") == "1"

if PRODUCTION and not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL: required with PBXPORTAL_ENV=production")

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "crispy_forms",
    "crispy_bootstrap5",
    "pbxportal.common",
    "pbxportal.ops",
    "pbxportal.accounts",
    "pbxportal.catalog",
    "pbxportal.pbx",
    "pbxportal.invoicing",
    "pbxportal.overdue",
    "pbxportal.payments",
    "pbxportal.clock",
    "pbxportal.licensing",
    "pbxportal.expansions",
    "pbxportal.hardware",
    "pbxportal.voice",
    "pbxportal.agent",
    "pbxportal.dashboard",
    "pbxportal.notifications",
    # Sign-in, password reset/change, email addresses and MFA (docs/accounts.md). After the portal's
    # apps, so accounts/templates/allauth/... (the portal's look) override allauth's templates.
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    "pbxportal.ops.logging.RequestIdMiddleware",
    "pbxportal.ops.metrics.MetricsMiddleware",
    "pbxportal.common.failures.ApiErrorShapeMiddleware",
    "pbxportal.common.failures.InputTextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Production serves collected static files from the web process (docs/deployment.md);
    # the embedded run (DEBUG) has runserver serve them.
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if PRODUCTION else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page language: the language switch's choice (cookie), else the browser's Accept-Language;
    # the API always answers in English (docs/ui.md "Languages").
    "pbxportal.common.i18n.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff (STAFF_MFA_REQUIRED) and users of a partner that requires it set up TOTP first.
    "pbxportal.accounts.middleware.MfaRequiredMiddleware",
    # From the read-only overdue stage a partner can only pay (R-INV-5); before idempotency, so a
    # refusal is not stored as the answer of a key.
    "pbxportal.overdue.middleware.OverdueMiddleware",
    "pbxportal.common.idempotency.IdempotencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pbxportal.config.urls"
WSGI_APPLICATION = "pbxportal.config.wsgi.application"
ASGI_APPLICATION = "pbxportal.config.asgi.application"

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
                "pbxportal.common.context_processors.portal",
                "pbxportal.notifications.context_processors.bell",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'pbxportal.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # A persistent connection broken by a database restart is replaced, not used once more.
        conn_health_checks=True,
    )
}
# A database that accepts connections but never answers must not hold a worker: connecting gives
# up after DB_CONNECT_TIMEOUT seconds and any statement after DB_STATEMENT_TIMEOUT_MS (0: none);
# the request then answers 503 in the error shape (docs/deployment.md).
DB_CONNECT_TIMEOUT = int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "60000"))
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    _db_options["options"] = (
        _db_options.get("options", "") + f" -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
    ).strip()
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A busy SQLite waits instead of failing at once when a task and a request write together.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]

# django-allauth (docs/accounts.md): login by username, no public sign-up (partner admins invite
# users; the invitation link proves the address), password reset by a one-time link.
ACCOUNT_ADAPTER = "pbxportal.accounts.adapter.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_REDIRECT_URL = "/login/"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{os.environ.get('VENDOR_NAME', 'Demo PBX Vendor')}] "
# Failed logins (replaces the hand-written lock-out): LOGIN_FAILED_RATE_LIMIT attempts per
# username (key) and per client address (ip), allauth's "amount/period/per" syntax. An attempt
# takes a slot *before* the password is checked (under a cache lock), a success gives it back:
# with 30 concurrent wrong passwords at most the key's amount are evaluated.
LOGIN_FAILED_RATE_LIMIT = os.environ.get("LOGIN_FAILED_RATE_LIMIT", "20/m/ip,5/15m/key")
ACCOUNT_RATE_LIMITS = {"login_failed": LOGIN_FAILED_RATE_LIMIT}
# Client address for the per-ip limits: REMOTE_ADDR unless behind a proxy that sets the header
# (then name it here, e.g. X-Forwarded-For with the number of trusted proxies).
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = os.environ.get("TRUSTED_CLIENT_IP_HEADER") or None

# MFA: TOTP with recovery codes. Staff must set it up (STAFF_MFA_REQUIRED); a partner's admin can
# require it for the partner's users (Partner.mfa_required).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = os.environ.get("VENDOR_NAME", "Demo PBX Vendor")
STAFF_MFA_REQUIRED = os.environ.get("STAFF_MFA_REQUIRED", "1") == "1"

# The cache holds the rate-limit counters, so it must be shared by every web process:
# CACHE_URL=redis://host:6379/1 (Redis), or by default a table in the database.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL == "locmem://":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL in ("", "db://"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "pbxportal_cache"}
    }
else:
    raise ImproperlyConfigured(f"CACHE_URL: {CACHE_URL!r} is not redis://..., db:// or locmem://")

# Languages (issue 16 item 9, docs/ui.md): English and Italian (the vendor's home market). The
# translation is src/pbxportal/locale/it/LC_MESSAGES/django.po, its compiled .mo committed beside it.
LANGUAGE_CODE = "en"
USE_I18N = True
LANGUAGES = [("en", "English"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language switch (Django's set_language view) remembers the choice in this cookie for a year.
LANGUAGE_COOKIE_NAME = "pbxportal_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION
USE_TZ = True
TIME_ZONE = "UTC"
# The vendor's day boundary (R-PBX-8 "last calendar day of a month", overdue days, the clock).
VENDOR_TIMEZONE = os.environ.get("VENDOR_TIMEZONE", "Europe/Rome")
# Public holidays for business-day rules (R-PBX-10), an ISO 3166 alpha-2 code for `holidays`.
VENDOR_COUNTRY = os.environ.get("VENDOR_COUNTRY", "IT")
VENDOR_NAME = os.environ.get("VENDOR_NAME", "Demo PBX Vendor")
VENDOR_DOMAIN = os.environ.get("VENDOR_DOMAIN", "pbx.example.net")

# Forms render with Bootstrap 5 through django-crispy-forms (docs/ui.md).
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
# The web process serves its own static files (WhiteNoise): no front proxy is required.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# WhiteNoise's list of already-compressed types, plus source maps: they are only for browser
# developer tools and compressing them would add most of collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "swf", "flv"),
    *("woff", "woff2", "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4", "mpeg", "mpg", "webm", "wmv", "map"),
]
MEDIA_ROOT = Path(
    os.environ.get("MEDIA_ROOT", DATA_DIR / "uploads")
)  # outside the web root, never served directly

# Content-Security-Policy (django-csp) in every environment, so a page that needs more is seen in
# development: scripts and styles from the portal itself only (style attributes allowed), nothing
# framed. /api/docs too: django-ninja serves Swagger UI from its own static files (no CDN) and
# its start-up script is a static file, so the docs need no exception.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# HSTS in production (the portal is served over HTTPS there; docs/deployment.md).
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("SECURE_HSTS_INCLUDE_SUBDOMAINS", "0") == "1"
SECURE_CONTENT_TYPE_NOSNIFF = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "billing@pbx.example.net")

# Celery: eager (in-process) when no broker is configured, the embedded default.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = VENDOR_TIMEZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat drives the billing clock (R-CLK-1) once a day in the vendor's time zone, and the short
# jobs (cloud activation R-PBX-3, SSH closing R-PBX-11) every minute; a late minute is dropped.
_CLOCK_HOUR, _CLOCK_MINUTE = (int(x) for x in os.environ.get("CLOCK_RUN_AT", "00:05").split(":"))
CELERY_BEAT_SCHEDULE = {
    "billing-clock-daily": {
        "task": "pbxportal.clock.tasks.run_clock",
        "schedule": crontab(hour=_CLOCK_HOUR, minute=_CLOCK_MINUTE),
    },
    "short-jobs-every-minute": {
        "task": "pbxportal.clock.tasks.run_short_jobs",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}

# Payment providers (R-INV-4): the hosted payment pages and the webhook secrets (docs/payments.md).
# Card payments go through Stripe (payments/providers/stripe_card.py): the secret API key and the
# endpoint's webhook signing secret (PAYMENT_CARD_WEBHOOK_SECRET).
STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY", "")
PAYMENT_CARD_WEBHOOK_SECRET = os.environ.get("PAYMENT_CARD_WEBHOOK_SECRET", "whsec_dev_card")
# PayPal REST (payments/providers/paypal.py): the app's credentials, the API host (sandbox by
# default), and the webhook id PayPal's signatures cover (refused at its default in production).
PAYPAL_CLIENT_ID = os.environ.get("PAYPAL_CLIENT_ID", "")
PAYPAL_CLIENT_SECRET = os.environ.get("PAYPAL_CLIENT_SECRET", "")
PAYPAL_API_BASE = os.environ.get("PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com")
PAYMENT_PAYPAL_WEBHOOK_ID = os.environ.get("PAYMENT_PAYPAL_WEBHOOK_ID", "WH-DEV")
# Invoice mail links (R-INV-3): valid this many hours, once. The public base URL for links in mails.
INVOICE_LINK_HOURS = int(os.environ.get("INVOICE_LINK_HOURS", "24"))
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# Bill runs (R-INV-2): PBXs per Celery task.
BILLRUN_CHUNK_SIZE = int(os.environ.get("BILLRUN_CHUNK_SIZE", "500"))

# Days to pay an invoice; cloud PBXs run the vendor's current firmware (R-CO-2 needs >= 6.0).
INVOICE_PAYMENT_DAYS = int(os.environ.get("INVOICE_PAYMENT_DAYS", "30"))
CLOUD_FIRMWARE_VERSION = os.environ.get("CLOUD_FIRMWARE_VERSION", "7.0")

# LOG_FORMAT=json: one JSON object per line with the request id (pbxportal.ops.logging).
LOGGING = logging_config(
    fmt=os.environ.get("LOG_FORMAT", "text"), level=os.environ.get("LOG_LEVEL", "WARNING")
)
# Idempotency records (R-API-2) count for this many hours, by the clock; the clock purges older ones.
IDEMPOTENCY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_TTL_HOURS", "24"))
# Clock-run rows (ClockDay, with each day's job counts) are kept this many days, then purged.
CLOCK_DAY_RETENTION_DAYS = int(os.environ.get("CLOCK_DAY_RETENTION_DAYS", "400"))
# /healthz probe timeout (seconds); /metrics requires this bearer token when set, and in production
# it must be set (check-config fails without it and /metrics answers 403).
HEALTHZ_TIMEOUT = float(os.environ.get("HEALTHZ_TIMEOUT", "2"))
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Licences delivered to PBXs (R-LIC-1..3): the signing key (PEM in the environment, a PEM file,
# or generated into DATA_DIR on first use), extra published public keys during a rotation
# (docs/licensing.md), and the activation-code lock-out after repeated wrong codes (R-LIC-2).
LICENCE_SIGNING_KEY_PEM = os.environ.get("LICENCE_SIGNING_KEY_PEM", "")
LICENCE_SIGNING_KEY_FILE = os.environ.get("LICENCE_SIGNING_KEY_FILE", "")
LICENCE_SIGNING_KEY_PASSWORD = os.environ.get("LICENCE_SIGNING_KEY_PASSWORD", "")
LICENCE_PUBLISHED_KEYS_FILE = os.environ.get("LICENCE_PUBLISHED_KEYS_FILE", "")
LICENCE_CODE_MAX_FAILURES = int(os.environ.get("LICENCE_CODE_MAX_FAILURES", "5"))
LICENCE_CODE_LOCKOUT_MINUTES = int(os.environ.get("LICENCE_CODE_LOCKOUT_MINUTES", "60"))
LICENCE_POLL_SECONDS = int(os.environ.get("LICENCE_POLL_SECONDS", "3600"))

# Voice trunk (R-VT-6, R-VT-10): usage a PBX may run up per month beyond its allowance before the
# live authorisation refuses calls (in the partner's currency), the rate-table cache, and number
# document uploads (types by content, largest size).
VOICE_CREDIT_LIMIT = os.environ.get("VOICE_CREDIT_LIMIT", "500.00")
VOICE_RATE_CACHE_SECONDS = float(os.environ.get("VOICE_RATE_CACHE_SECONDS", "60"))
VOICE_PBX_CACHE_SECONDS = float(os.environ.get("VOICE_PBX_CACHE_SECONDS", "30"))
VOICE_DOCUMENT_MAX_BYTES = int(os.environ.get("VOICE_DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)))

# The vendor as seller on invoices (R-INV-1, accounts/legal.py): legal entity, bank details and
# payment terms ("{days}" is INVOICE_PAYMENT_DAYS). Tax rules per vendor country as data
# (invoicing/tax_rules.yaml or TAX_RULES_FILE, docs/tax.md).
VENDOR_LEGAL_NAME = os.environ.get("VENDOR_LEGAL_NAME", "Demo PBX Vendor S.r.l.")
VENDOR_ADDRESS = os.environ.get("VENDOR_ADDRESS", "Via Roma 1")
VENDOR_POSTAL_CODE = os.environ.get("VENDOR_POSTAL_CODE", "20121")
VENDOR_CITY = os.environ.get("VENDOR_CITY", "Milano")
VENDOR_VAT_NUMBER = os.environ.get("VENDOR_VAT_NUMBER", "IT00743110157")
VENDOR_TAX_NUMBER = os.environ.get("VENDOR_TAX_NUMBER", "")
VENDOR_BANK_NAME = os.environ.get("VENDOR_BANK_NAME", "Demo Bank S.p.A.")
VENDOR_IBAN = os.environ.get("VENDOR_IBAN", "IT60X0542811101000000123456")
VENDOR_BIC = os.environ.get("VENDOR_BIC", "DEMOITMMXXX")
VENDOR_PAYMENT_TERMS = os.environ.get(
    "VENDOR_PAYMENT_TERMS", "Payment by bank transfer or online within {days} days of the invoice date."
)
VENDOR_BILLING_EMAIL = os.environ.get("VENDOR_BILLING_EMAIL", "billing@vendor.example")
TAX_RULES_FILE = os.environ.get("TAX_RULES_FILE", "")

# The built-in sandbox payment provider (payments/providers/sandbox.py): a hosted test page served
# by the portal, the default of the embedded run; off in production unless enabled explicitly.
PAYMENT_SANDBOX_ENABLED = os.environ.get("PAYMENT_SANDBOX_ENABLED", "0" if PRODUCTION else "1") == "1"
PAYMENT_SANDBOX_WEBHOOK_SECRET = os.environ.get("PAYMENT_SANDBOX_WEBHOOK_SECRET", "sandbox_dev_secret")
# Automatic charging of saved payment methods (payments/methods.py, docs/payments.md): which
# invoices (source-key prefixes: renewals, usage, usage re-rating) and the retry schedule, as day
# offsets from the issue date, one per attempt ("0,3,5,7": the day of issue, then 3, 5, 7 days on).
AUTO_CHARGE_SOURCES = tuple(
    s.strip()
    for s in os.environ.get("AUTO_CHARGE_SOURCES", "renewal:,usage:,rerate:").split(",")
    if s.strip()
)
AUTO_CHARGE_RETRY_DAYS = os.environ.get("AUTO_CHARGE_RETRY_DAYS", "0,3,5,7")

# PBXPORTAL_ENV=production refuses every development default secret, each named (check-config).
DEV_DEFAULT_SECRETS = {
    "SECRET_KEY": DEV_SECRET_KEY,
    "PAYMENT_CARD_WEBHOOK_SECRET": "whsec_dev_card",
    "PAYMENT_PAYPAL_WEBHOOK_ID": "WH-DEV",
    "PAYMENT_SANDBOX_WEBHOOK_SECRET": "sandbox_dev_secret",
}


def development_defaults() -> list[str]:
    """The names of the secrets still at their public development default."""
    found = [name for name, default in DEV_DEFAULT_SECRETS.items() if globals()[name] == default]
    if not (LICENCE_SIGNING_KEY_PEM or LICENCE_SIGNING_KEY_FILE):
        found.append("LICENCE_SIGNING_KEY_PEM")
    return found


if PRODUCTION and development_defaults():
    raise ImproperlyConfigured(
        "\n".join(
            f"{name}: the development default cannot be used with PBXPORTAL_ENV=production"
            + ("" if name != "LICENCE_SIGNING_KEY_PEM" else " (set it or LICENCE_SIGNING_KEY_FILE)")
            for name in development_defaults()
        )
    )
