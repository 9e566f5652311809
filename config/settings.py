"""Settings of the order monitor. Everything that varies between machines is read from the
environment here and nowhere else (see docs/CONFIGURATION.md)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# The monitor runs from cron; the key only signs admin sessions. The fallback is public (it is in
# the repository): its django-insecure- prefix makes `check --deploy` flag it, and config/wsgi.py
# refuses to serve the admin with it unless DEBUG is on.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-set-DJANGO_SECRET_KEY-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY").strip() or DEVELOPMENT_SECRET_KEY
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

# HTTPS for the admin. The defaults are for production (DEBUG off): plain-HTTP requests are
# redirected, cookies are sent over HTTPS only, browsers are told to use HTTPS for a year (HSTS);
# with DJANGO_DEBUG on (development over plain HTTP) they are off. Behind a
# reverse proxy that ends TLS, DJANGO_SECURE_PROXY_SSL_HEADER names the header it sets
# (X-Forwarded-Proto); without it every request looks like plain HTTP and is redirected forever.
_proxy_ssl_header = env_str("DJANGO_SECURE_PROXY_SSL_HEADER").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
# Origins (scheme://host[:port]) allowed to POST to the admin besides its own host, e.g. when
# the proxy serves it under another name or port.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# Joining the browsers' HSTS preload list binds every subdomain of the whole domain, a decision
# for the domain's owner, not this admin: off by default (DJANGO_SECURE_HSTS_PRELOAD turns it on),
# so its reminder in `check --deploy` is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "providers",
    "orders",
    "sandbox",  # fake providers for the demo, tests and benchmarks; not used by the monitor
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The admin's CSS and JavaScript, from STATIC_ROOT, without a separate web server or DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


# PostgreSQL in production (DATABASE_URL); a SQLite file beside manage.py otherwise.
def _database_from_url(url):
    try:
        return dj_database_url.parse(url, conn_max_age=0)
    except Exception:
        # The URL may hold a password: never repeat it.
        raise ImproperlyConfigured("DATABASE_URL is not a database URL (postgres://user@host:5432/name)") from None


DATABASES = {"default": _database_from_url(env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite has one writer: take the write lock when a transaction starts, and wait for it,
    # so that two runs on one SQLite file queue up instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 30}
    # Tests that run the command as a separate process need a test database on disk.
    _sqlite_file = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_sqlite_file.with_name("test_" + _sqlite_file.name))}
else:
    # A database host that does not answer would otherwise hold each connection attempt (and a
    # run retrying its writes) for minutes; ?connect_timeout=N in DATABASE_URL overrides this.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False
STATIC_URL = "static/"
# Where `manage.py collectstatic` puts the admin's files; WhiteNoise serves them from there,
# compressed (gzip). No manifest: templates render before collectstatic has run (tests, cron).
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- The monitor -------------------------------------------------------------------------
# Backoff between unfinished checks: base x 2^(n-1), capped, with +-jitter.
MONITOR_BACKOFF_BASE_SECONDS = env_float("MONITOR_BACKOFF_BASE_SECONDS", 30.0, minimum=0.0)
# The cap is also the longest gap between two checks of a still-processing order's schedule.
MONITOR_BACKOFF_CAP_SECONDS = env_float("MONITOR_BACKOFF_CAP_SECONDS", 600.0, minimum=1.0)
MONITOR_BACKOFF_JITTER = env_float("MONITOR_BACKOFF_JITTER", 0.10, minimum=0.0, maximum=0.5)
# An order still not final this long after it was sent is failed.
MONITOR_MAX_AGE_HOURS = env_float("MONITOR_MAX_AGE_HOURS", 24.0, minimum=0.0)
# Orders one run handles and how long it may take (below the 5-minute cron interval).
MONITOR_BATCH_LIMIT = env_int("MONITOR_BATCH_LIMIT", 100, minimum=1)
MONITOR_MAX_SECONDS = env_float("MONITOR_MAX_SECONDS", 240.0, minimum=1.0)
# A claimed order stays leased this much longer than the run deadline, so an in-flight check
# always ends before another run may take the order; a run that died frees it after that.
MONITOR_LEASE_MARGIN_SECONDS = env_float("MONITOR_LEASE_MARGIN_SECONDS", 120.0, minimum=0.0)
# On SIGTERM/SIGINT, how long in-flight checks may still finish before they are abandoned.
MONITOR_SHUTDOWN_GRACE_SECONDS = env_float("MONITOR_SHUTDOWN_GRACE_SECONDS", 5.0, minimum=0.0)
# Provider calls of one run: threads in all, and at most this many at once per integration
# (by default all of them: most platforms send nearly every order to one integration).
MONITOR_WORKERS = env_int("MONITOR_WORKERS", 16, minimum=1)
MONITOR_PER_INTEGRATION_CONCURRENCY = env_int("MONITOR_PER_INTEGRATION_CONCURRENCY", MONITOR_WORKERS, minimum=1)
# Status requests per order that the check schedules learned per integration may spend on
# average (orders.schedule_book).
MONITOR_CHECK_BUDGET = env_float("MONITOR_CHECK_BUDGET", 3.0, minimum=1.0)
# check_pending_orders --loop: one claim -> check cycle starts no provider call after this many
# seconds, and its orders are leased for this plus MONITOR_LEASE_MARGIN_SECONDS.
MONITOR_LOOP_CYCLE_SECONDS = env_float("MONITOR_LOOP_CYCLE_SECONDS", 30.0, minimum=1.0)
# The first status check of an order whose place answer was lost (dispatch_order), and how long
# an order being placed is not due.
MONITOR_FIRST_CHECK_DELAY_SECONDS = env_float("MONITOR_FIRST_CHECK_DELAY_SECONDS", 60.0, minimum=0.0)
# Storing a result when the database connection was lost: tries in all, and the first wait
# (doubling after each try, at most 10 s), never past the run's deadline plus one such round.
MONITOR_DB_RETRY_ATTEMPTS = env_int("MONITOR_DB_RETRY_ATTEMPTS", 5, minimum=1)
MONITOR_DB_RETRY_WAIT_SECONDS = env_float("MONITOR_DB_RETRY_WAIT_SECONDS", 1.0, minimum=0.0)
# monitor_health: a due order waiting longer than this means cron is not running.
MONITOR_OVERDUE_MINUTES = env_float("MONITOR_OVERDUE_MINUTES", 15.0, minimum=0.0)

# The admin's "check now" and "test connection": at most this many orders (integrations) per
# click, and no provider request starts after this many seconds, so that a click during a
# provider outage ends well within the web server's worker timeout (gunicorn: 30 s).
MONITOR_ADMIN_CHECK_LIMIT = env_int("MONITOR_ADMIN_CHECK_LIMIT", 5, minimum=1)
MONITOR_ADMIN_CHECK_SECONDS = env_float("MONITOR_ADMIN_CHECK_SECONDS", 10.0, minimum=1.0)
# The admin shows times to the second (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

# Provider HTTP: timeouts per request and attempts per check for transient failures.
PROVIDER_CONNECT_TIMEOUT_SECONDS = env_float("PROVIDER_CONNECT_TIMEOUT_SECONDS", 5.0, minimum=0.001)
PROVIDER_READ_TIMEOUT_SECONDS = env_float("PROVIDER_READ_TIMEOUT_SECONDS", 20.0, minimum=0.001)
PROVIDER_RETRY_ATTEMPTS = env_int("PROVIDER_RETRY_ATTEMPTS", 3, minimum=1)
PROVIDER_RETRY_WAIT_SECONDS = env_float("PROVIDER_RETRY_WAIT_SECONDS", 0.5, minimum=0.0)
# Hosts (names or addresses) on the monitor's own network that integrations may point at: none in
# production; the sandboxes, tests and the demo use 127.0.0.1,localhost (providers/addresses.py).
MONITOR_ALLOWED_PROVIDER_HOSTS = env_list("MONITOR_ALLOWED_PROVIDER_HOSTS", "")

# Logs go to stderr (cron or the service manager routes them); secrets are redacted and
# PINs never logged unmasked (providers.redaction). LOG_FORMAT=json writes one JSON object a
# line, for log shippers; the same filter runs before either format.
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "providers.redaction.RedactSecretsFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "orders": {"level": LOG_LEVEL},
        "providers": {"level": LOG_LEVEL},
        "urllib3": {"level": LOG_LEVEL},
    },
}

# --- Error reports (optional) -----------------------------------------------------------
# Sentry, when SENTRY_DSN is set: errors and error log lines, scrubbed like the logs
# (config/sentry.py), and a Crons check-in for each check_pending_orders run.
SENTRY_DSN = env_str("SENTRY_DSN").strip()
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production").strip() or "production"
SENTRY_RELEASE = env_str("SENTRY_RELEASE").strip()
SENTRY_CRONS_MONITOR = env_str("SENTRY_CRONS_MONITOR", "check-pending-orders").strip() or "check-pending-orders"
# The schedule Sentry expects check-ins on (crontab syntax): keep it equal to the cron line or timer.
SENTRY_CRONS_SCHEDULE = env_str("SENTRY_CRONS_SCHEDULE", "*/5 * * * *").strip() or "*/5 * * * *"
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE)
