"""Shared fixtures: a znet sandbox over real HTTP, an integration pointing at it, order factories."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from orders.models import ExternalStatus, Order
from orders.schedule_book import BOOK
from providers.models import Integration
from sandbox.znet import SandboxConfig, ZnetSandbox
from tests.legacy_db import LegacyDatabases

PROJECT_DIR = Path(__file__).resolve().parent.parent
SANDBOX_KOD = "bayi-4821"
SANDBOX_SIFRE = "s3cr3t-Sifre-9917"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests leave the SQLite pass, instead of showing up as skipped."""
    if "postgresql" in django_settings.DATABASES["default"]["ENGINE"]:
        return
    kept = [item for item in items if "postgres" not in item.keywords]
    deselected = [item for item in items if "postgres" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(autouse=True, scope="session")
def test_only_settings(tmp_path_factory):
    """Settings that differ in tests only. MD5 hashing: the admin tests create users, and the
    production hasher spends most of their time hashing. No HTTPS redirect: the test client and
    the live server speak plain HTTP (tests/config/test_deploy.py checks the production values in
    a separate process). An empty STATIC_ROOT: WhiteNoise warns when there is none, and tests do
    not run collectstatic."""
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SECURE_SSL_REDIRECT=False,
        STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
    ):
        yield


@pytest.fixture(autouse=True)
def fast_provider_settings(settings):
    """Short timeouts and retry waits so fault tests take seconds; the code path is unchanged."""
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 1.0
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 1.0
    settings.PROVIDER_RETRY_WAIT_SECONDS = 0.01
    settings.MONITOR_BACKOFF_JITTER = 0.10
    return settings


@pytest.fixture(autouse=True)
def fresh_check_schedules():
    """Each test learns the check schedules from its own orders (the process keeps them a minute)."""
    BOOK.forget()
    yield
    BOOK.forget()


@pytest.fixture
def sandbox():
    server = ZnetSandbox(SandboxConfig(kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE, seed=1234)).start()
    yield server
    server.stop()


@pytest.fixture
def integration(db, sandbox):
    return Integration.objects.create(
        name="znet sandbox", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE
    )


@pytest.fixture
def make_order(integration, sandbox):
    """A sent order known to the sandbox: make_order(outcome="completed", checks_until_final=1, ...)."""

    def make(outcome="completed", checks_until_final=1, pin=None, sent_ago=timedelta(minutes=5), **fields):
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, outcome=outcome, pin=pin, checks_until_final=checks_until_final)
        values = {
            "external_status": ExternalStatus.SENT,
            "integration_id": str(integration.pk),
            "provider_referans": reference,
            "sent_at": timezone.now() - sent_ago,
        }
        values.update(fields)
        return Order.objects.create(**values)

    return make


def database_url(name=None):
    """The test database (or database `name` on the same server) as a DATABASE_URL, for
    commands run as separate processes."""
    db = connection.settings_dict
    name = name or db["NAME"]
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{user}@{host}:{port}/{name}"
    return f"sqlite:///{name}"


def server_connection(dbname="postgres"):
    """A PostgreSQL connection of the test's own, outside Django (autocommit): to terminate a
    run's connection, refuse connections, create and drop throw-away databases."""
    import psycopg2

    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname=dbname,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )
    conn.autocommit = True
    return conn


def command_env(**extra):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        PROVIDER_CONNECT_TIMEOUT_SECONDS="1",
        PROVIDER_READ_TIMEOUT_SECONDS="1",
        PROVIDER_RETRY_WAIT_SECONDS="0.01",
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_command(*args, **env):
    """Start `manage.py <args>` as its own process against the test database."""
    return subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        cwd=PROJECT_DIR,
        env=command_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_command(*args, timeout=120, **env):
    process = start_command(*args, **env)
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


@pytest.fixture
def legacy_databases(django_db_setup):
    """Databases with the older application's schema: `legacy_databases.create()`. Named after
    the test database (test_<name>_legacy_<hex>); all dropped when the test ends, failed or not."""
    databases = LegacyDatabases(dict(connection.settings_dict))
    yield databases
    databases.drop_all()
