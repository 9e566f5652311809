"""Settings of the order monitor. Everything that varies between machines is read from the
environment here and nowhere else (see docs/CONFIGURATION.md)."""

import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.cron import is_crontab
from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str, env_text, matching

BASE_DIR = Path(__file__).resolve().parent.parent

# The monitor runs from cron; the key only signs admin sessions. The fallback is public (it is in
# the repository): its django-insecure- prefix makes `check --deploy` flag it, and config/wsgi.py
# refuses to serve the admin with it unless DEBUG is on.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-set-DJANGO_SECRET_KEY-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY").strip() or DEVELOPMENT_SECRET_KEY
DEBUG = env_bool("DJANGO_DEBUG", False)

# A host name (an IPv4 address is one too), or a bracketed IPv6 address.
_HOST = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
)
# Django's host patterns: a name, .name for it and its subdomains, or * for any; no port (Django
# compares the host without it, so "host:8000" would match nothing).
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS",
    "localhost,127.0.0.1",
    "host names separated by commas (monitor.example.com, .example.com with its subdomains, an IP address, "
    "[::1] or *), without ports",
    matching(rf"\*|\.?{_HOST}\.?"),
)

# HTTPS for the admin. The defaults are for production (DEBUG off): plain-HTTP requests are
# redirected, cookies are sent over HTTPS only, browsers are told to use HTTPS for a year (HSTS);
# with DJANGO_DEBUG on (development over plain HTTP) they are off. Behind a
# reverse proxy that ends TLS, DJANGO_SECURE_PROXY_SSL_HEADER names the header it sets
# (X-Forwarded-Proto); without it every request looks like plain HTTP and is redirected forever.
# Letters, digits and single hyphens: servers drop header names with underscores or spaces,
# so such a name would never match and every request would look like plain HTTP.
_proxy_ssl_header = env_text(
    "DJANGO_SECURE_PROXY_SSL_HEADER",
    "",
    "an HTTP header name of at most 64 letters, digits and hyphens (X-Forwarded-Proto)",
    matching(r"(?=.{1,64}\Z)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"),
)
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
# Up to two years: browsers keep HSTS for at most one or two years anyway.
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0, maximum=63_072_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
# Origins (scheme://host[:port]) allowed to POST to the admin besides its own host, e.g. when
# the proxy serves it under another name or port.
CSRF_TRUSTED_ORIGINS = env_list(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "",
    "origins separated by commas, each http:// or https://, a host (*. for its subdomains) and an optional "
    "port (https://monitor.example.com:8443)",
    matching(rf"https?://(?:\*\.)?{_HOST}(?::[0-9]{{1,5}})?"),
)
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
    "hooks",
    "budgets",
    "health",
    "dispatch",
]  # the fake providers' app ("sandbox") only in config.settings_dev: the demo, tests, benchmarks

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


# The PostgreSQL schema of the monitor's own tables: a plain lower-case name, neither the
# platform's (public) nor one of PostgreSQL's own (pg_...).
def _monitor_schema_name(name: str) -> bool:
    return bool(re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name)) and name != "public" and not name.startswith("pg_")


MONITOR_DB_SCHEMA = env_text(
    "MONITOR_DB_SCHEMA",
    "order_monitor",
    "a lower-case PostgreSQL name (letters, digits, _), not public, not starting with pg_",
    _monitor_schema_name,
)

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
    # The monitor's own tables and Django's bookkeeping live in this schema, first on the search
    # path; the platform's tables stay in public (config/postgresql/base.py).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "config.postgresql"
        DATABASES["default"]["OPTIONS"]["monitor_schema"] = MONITOR_DB_SCHEMA
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False
STATIC_URL = "static/"
# Where `manage.py collectstatic` puts the admin's files; WhiteNoise serves them from there,
# compressed (gzip). No manifest: templates render before collectstatic has run (tests, cron).
STATIC_ROOT = env_text("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"), "a directory", bool)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- The monitor -------------------------------------------------------------------------
# Every number has a range; docs/CONFIGURATION.md ("Ranges") says why each one. A run lasts at
# most an hour and its lease at most 1.5 h (orders.claiming bounds them again), far inside an
# order's 24 h.
# Backoff between unfinished checks: base x 2^(n-1), capped, with +-jitter.
MONITOR_BACKOFF_BASE_SECONDS = env_float("MONITOR_BACKOFF_BASE_SECONDS", 30.0, minimum=0.0, maximum=3600.0)
# The cap is also the longest gap between two checks of a still-processing order's schedule.
MONITOR_BACKOFF_CAP_SECONDS = env_float("MONITOR_BACKOFF_CAP_SECONDS", 600.0, minimum=1.0, maximum=3600.0)
MONITOR_BACKOFF_JITTER = env_float("MONITOR_BACKOFF_JITTER", 0.10, minimum=0.0, maximum=0.5)
# An order still not final this long after it was sent is failed.
MONITOR_MAX_AGE_HOURS = env_float("MONITOR_MAX_AGE_HOURS", 24.0, minimum=1.0, maximum=720.0)
# Orders one run handles and how long it may take (below the 5-minute cron interval).
MONITOR_BATCH_LIMIT = env_int("MONITOR_BATCH_LIMIT", 100, minimum=1, maximum=10_000)
MONITOR_MAX_SECONDS = env_float("MONITOR_MAX_SECONDS", 240.0, minimum=1.0, maximum=3600.0)
# A claimed order stays leased this much longer than the run deadline, so an in-flight check
# always ends before another run may take the order; a run that died frees it after that.
MONITOR_LEASE_MARGIN_SECONDS = env_float("MONITOR_LEASE_MARGIN_SECONDS", 120.0, minimum=0.0, maximum=1800.0)
# On SIGTERM/SIGINT, how long in-flight checks may still finish before they are abandoned.
MONITOR_SHUTDOWN_GRACE_SECONDS = env_float("MONITOR_SHUTDOWN_GRACE_SECONDS", 5.0, minimum=0.0, maximum=300.0)
# Provider calls of one run: threads in all, and at most this many at once per integration
# (by default all of them: most platforms send nearly every order to one integration).
MONITOR_WORKERS = env_int("MONITOR_WORKERS", 16, minimum=1, maximum=256)
MONITOR_PER_INTEGRATION_CONCURRENCY = env_int(
    "MONITOR_PER_INTEGRATION_CONCURRENCY", MONITOR_WORKERS, minimum=1, maximum=256
)
# Request budgets per integration (budgets app), shared by every process on PostgreSQL: off, a
# run sends as fast as MONITOR_PER_INTEGRATION_CONCURRENCY allows.
MONITOR_REQUEST_BUDGETS = env_bool("MONITOR_REQUEST_BUDGETS", True)
# A 429 or "try later" answer without Retry-After pauses its integration this long.
MONITOR_THROTTLE_PAUSE_SECONDS = env_float("MONITOR_THROTTLE_PAUSE_SECONDS", 10.0, minimum=0.1, maximum=3600.0)
# Status requests per order that the check schedules learned per integration may spend on
# average (schedules.book).
MONITOR_CHECK_BUDGET = env_float("MONITOR_CHECK_BUDGET", 3.0, minimum=1.0, maximum=50.0)
# check_pending_orders --loop: one claim -> check cycle starts no provider call after this many
# seconds, and its orders are leased for this plus MONITOR_LEASE_MARGIN_SECONDS.
MONITOR_LOOP_CYCLE_SECONDS = env_float("MONITOR_LOOP_CYCLE_SECONDS", 30.0, minimum=1.0, maximum=3600.0)
# The first status check of an order whose place answer was lost (dispatch_order), and how long
# an order being placed is not due.
MONITOR_FIRST_CHECK_DELAY_SECONDS = env_float("MONITOR_FIRST_CHECK_DELAY_SECONDS", 60.0, minimum=0.0, maximum=3600.0)
# Storing a result when the database connection was lost: tries in all, and the first wait
# (doubling after each try, at most 10 s), never past the run's deadline plus one such round.
MONITOR_DB_RETRY_ATTEMPTS = env_int("MONITOR_DB_RETRY_ATTEMPTS", 5, minimum=1, maximum=20)
MONITOR_DB_RETRY_WAIT_SECONDS = env_float("MONITOR_DB_RETRY_WAIT_SECONDS", 1.0, minimum=0.0, maximum=10.0)
# monitor_health: a due order waiting longer than this means cron is not running.
MONITOR_OVERDUE_MINUTES = env_float("MONITOR_OVERDUE_MINUTES", 15.0, minimum=1.0, maximum=1440.0)

# The admin's "check now" and "test connection": at most this many orders (integrations) per
# click, and no provider request starts after this many seconds, so that a click during a
# provider outage ends well within the web server's worker timeout (gunicorn: 30 s).
MONITOR_ADMIN_CHECK_LIMIT = env_int("MONITOR_ADMIN_CHECK_LIMIT", 5, minimum=1, maximum=100)
MONITOR_ADMIN_CHECK_SECONDS = env_float("MONITOR_ADMIN_CHECK_SECONDS", 10.0, minimum=1.0, maximum=60.0)
# The admin shows times to the second (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

# Provider HTTP: timeouts per request and attempts per check for transient failures.
PROVIDER_CONNECT_TIMEOUT_SECONDS = env_float("PROVIDER_CONNECT_TIMEOUT_SECONDS", 5.0, minimum=0.1, maximum=300.0)
PROVIDER_READ_TIMEOUT_SECONDS = env_float("PROVIDER_READ_TIMEOUT_SECONDS", 20.0, minimum=0.1, maximum=300.0)
PROVIDER_RETRY_ATTEMPTS = env_int("PROVIDER_RETRY_ATTEMPTS", 3, minimum=1, maximum=10)
PROVIDER_RETRY_WAIT_SECONDS = env_float("PROVIDER_RETRY_WAIT_SECONDS", 0.5, minimum=0.0, maximum=10.0)
# A provider's answer is read up to this many bytes (the rest is never read); "providerMessage"
# keeps at most that much, marked as cut.
PROVIDER_MAX_ANSWER_BYTES = env_int("PROVIDER_MAX_ANSWER_BYTES", 65536, minimum=1024, maximum=16 * 1024 * 1024)
# Hosts (names or addresses) on the monitor's own network that integrations may point at: none in
# production; the sandboxes, tests and the demo use 127.0.0.1,localhost (providers/addresses.py).
MONITOR_ALLOWED_PROVIDER_HOSTS = env_list(
    "MONITOR_ALLOWED_PROVIDER_HOSTS",
    "",
    "host names or IP addresses separated by commas (127.0.0.1,localhost)",
    lambda item: bool(re.fullmatch(r"[A-Za-z0-9.:\[\]_-]{1,253}", item)),
)

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
        "budgets": {"level": LOG_LEVEL},
        "schedules": {"level": LOG_LEVEL},
        "health": {"level": LOG_LEVEL},
        "dispatch": {"level": LOG_LEVEL},
        "urllib3": {"level": LOG_LEVEL},
    },
}

# --- Error reports (optional) -----------------------------------------------------------
# Sentry, when SENTRY_DSN is set: errors and error log lines, scrubbed like the logs
# (config/sentry.py), and a Crons check-in for each check_pending_orders run.
SENTRY_DSN = env_str("SENTRY_DSN", "", "a Sentry DSN (https://key@host/project-id)").strip()
# Sentry's own rules for these names; a name it refuses would drop the reports silently.
SENTRY_ENVIRONMENT = env_text(
    "SENTRY_ENVIRONMENT",
    "production",
    "a name of at most 64 characters without spaces or / (not None)",
    matching(r"(?!None\Z)[^\s/]{1,64}"),
)
SENTRY_RELEASE = env_text(
    "SENTRY_RELEASE",
    "",
    "at most 200 characters without /, \\, tabs or line breaks (not . or ..)",
    matching(r"(?!\.{1,2}\Z)[^/\\\t\r\n]{1,200}"),
)
SENTRY_CRONS_MONITOR = env_text(
    "SENTRY_CRONS_MONITOR",
    "check-pending-orders",
    "a slug of at most 50 lower-case letters, digits, - and _",
    matching(r"[a-z0-9][a-z0-9_-]{0,49}"),
)
# The schedule Sentry expects check-ins on (crontab syntax): keep it equal to the cron line or timer.
SENTRY_CRONS_SCHEDULE = env_text(
    "SENTRY_CRONS_SCHEDULE",
    "*/5 * * * *",
    "a crontab schedule: five fields (minute hour day month weekday) or @hourly, @daily, ...",
    is_crontab,
)
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE)
