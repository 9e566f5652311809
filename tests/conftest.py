"""Shared fixtures: a znet sandbox over real HTTP, an integration pointing at it, an order factory
bound to them, legacy databases. Helpers the test modules import live in tests/factories.py and
tests/commands.py."""

import os
from functools import partial

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings

from orders.signals import order_finalized
from providers.models import Integration
from sandbox.znet import SandboxConfig, ZnetSandbox
from schedules import book
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE, create_order_at_sandbox
from tests.legacy_db import LegacyDatabases


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
    not run collectstatic. The sandboxes listen on 127.0.0.1: MONITOR_ALLOWED_PROVIDER_HOSTS lets
    integrations point there, in this process and in the commands the tests start."""
    allowed = "127.0.0.1,localhost"
    previous = os.environ.get("MONITOR_ALLOWED_PROVIDER_HOSTS")
    os.environ["MONITOR_ALLOWED_PROVIDER_HOSTS"] = allowed
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SECURE_SSL_REDIRECT=False,
        STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
        MONITOR_ALLOWED_PROVIDER_HOSTS=allowed.split(","),
    ):
        yield
    if previous is None:
        del os.environ["MONITOR_ALLOWED_PROVIDER_HOSTS"]
    else:
        os.environ["MONITOR_ALLOWED_PROVIDER_HOSTS"] = previous


@pytest.fixture(autouse=True)
def fast_provider_settings(settings):
    """Short timeouts and retry waits so fault tests take seconds; the code path is unchanged."""
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 1.0
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 1.0
    settings.PROVIDER_RETRY_WAIT_SECONDS = 0.01
    settings.MONITOR_BACKOFF_JITTER = 0.10
    # Request budgets only where a test asks for them (tests/budgets): elsewhere a test's burst
    # of orders would wait out a provider's few requests a second.
    settings.MONITOR_REQUEST_BUDGETS = False
    return settings


@pytest.fixture(autouse=True)
def fresh_check_schedules(monkeypatch):
    """Each test's dispatch_order learns the check schedules from its own orders (the process's
    books keep them a minute)."""
    monkeypatch.setattr(book, "BOOKS", {})


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
    """A sent order known to the sandbox: make_order(outcome="completed", checks_until_final=1, ...)
    (tests.factories.create_order_at_sandbox)."""
    return partial(create_order_at_sandbox, sandbox, integration)


@pytest.fixture
def finalized():
    """The order_finalized signals sent during the test, as (order id, outcome)."""
    received = []

    def receiver(sender, order, outcome, **kwargs):
        received.append((order.pk, outcome))

    order_finalized.connect(receiver)
    yield received
    order_finalized.disconnect(receiver)


@pytest.fixture
def legacy_databases(django_db_setup):
    """Copies of the platform's live database: `legacy_databases.create()` (tests/legacy_db.py).
    Named after the test database (test_<name>_legacy_<hex>); all dropped when the test ends,
    failed or not."""
    databases = LegacyDatabases(dict(connection.settings_dict))
    yield databases
    databases.drop_all()
