"""The monitor's own Django tables apart from the platform's: the platform's Django project shares
the database (its bookkeeping in public, labels `orders` and `providers`, no `auth_user`), so the
monitor's labels are its own and, on PostgreSQL, its bookkeeping and its own tables live in the
monitor's schema, while the platform's tables stay in public with their live types."""

import importlib
import uuid

import pytest
from django.apps import apps
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.db import connection
from django.urls import reverse

from config.live_schema import PLATFORM_TABLES
from orders.models import Order
from providers.models import Integration
from tests.commands import admin_session, run_command, served_admin
from tests.factories import create_sent_order, legacy_integration, legacy_sent_order
from tests.legacy_db import run_upgrade_script

orders_initial = importlib.import_module("orders.migrations.0001_initial")

MONITOR_SCHEMA = "order_monitor"
PLATFORM_BOOKKEEPING = ("django_migrations", "django_content_type", "auth_permission", "django_session")
# Where a fresh database differs from the live one, on purpose: the live "tenantId" is NOT NULL
# with a foreign key to tenant, which the model (and the tests' orders) leave out. The ids get no
# database default either (the models make them; the live defaults need extensions).
FRESH_DIFFERS = {("product_orders", "tenantId", "is_nullable")}
# The columns of product_orders the monitor adds (provider_referans exists live already).
MONITOR_COLUMNS = (
    "next_check_at",
    "check_attempts",
    "last_check_error",
    "pin_code_full",
    "hold_reason",
    "permanent_error_since",
    "consecutive_errors",
    "monitor_leased_until",
)


def test_the_app_labels_are_not_the_platforms():
    labels = {config.label for config in apps.get_app_configs()}
    assert {"monitor_orders", "monitor_providers"} <= labels
    assert not {"orders", "providers"} & labels
    assert reverse(admin_urlname(Order._meta, "changelist")) == "/admin/monitor_orders/order/"
    assert reverse(admin_urlname(Integration._meta, "changelist")) == "/admin/monitor_providers/integration/"


def snapshot(cursor):
    """The platform's Django bookkeeping rows, and the tables of public."""
    rows = {}
    for table in PLATFORM_BOOKKEEPING:
        cursor.execute(f"SELECT * FROM public.{table} ORDER BY 1")
        rows[table] = cursor.fetchall()
    cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
    return rows, [row[0] for row in cursor.fetchall()]


def tables_in(cursor, schema):
    cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
    return {row[0] for row in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.slow  # psql, the commands and gunicorn run as processes
def test_on_the_platforms_database_the_monitor_keeps_its_bookkeeping_to_itself(legacy_databases, sandbox):
    database = legacy_databases.create(platform_django=True)
    cursor = database.connection.cursor()
    before = snapshot(cursor)

    code, _, stderr = run_upgrade_script(database)
    assert code == 0, stderr
    # As the older instructions said: --fake-initial is no longer needed, and harmless (nothing is
    # faked: the platform's own records of `orders` and `auth` migrations do not count).
    code, stdout, stderr = run_command("migrate", "--fake-initial", DATABASE_URL=database.url)
    assert code == 0, stderr
    for migration in ("monitor_orders.0001_initial", "monitor_providers.0001_initial", "auth.0001_initial"):
        assert f"Applying {migration}... OK" in stdout
    code, stdout, stderr = run_command("migrate", DATABASE_URL=database.url)
    assert code == 0, stderr
    assert "No migrations to apply." in stdout
    code, stdout, stderr = run_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "monitor-admin",
        "--email",
        "monitor-admin@example.com",
        DATABASE_URL=database.url,
        DJANGO_SUPERUSER_PASSWORD="Monitor-admin-pw-1",
    )
    assert (code, stdout.strip(), stderr) == (0, "Superuser created successfully.", "")

    # The platform's bookkeeping rows and its tables in public are as they were.
    assert snapshot(cursor) == before
    monitor_tables = tables_in(cursor, MONITOR_SCHEMA)
    assert {"django_migrations", "django_content_type", "auth_user", "django_session", "django_admin_log"} <= (
        monitor_tables
    )
    assert {
        "order_status_events",
        "order_monitor_runs",
        "integration_webhooks",
        "webhook_nonces",
        "integration_budgets",
        "budget_in_flight",
    } <= monitor_tables
    assert not monitor_tables & PLATFORM_TABLES
    cursor.execute(f"SELECT DISTINCT app FROM {MONITOR_SCHEMA}.django_migrations ORDER BY app")
    assert [row[0] for row in cursor.fetchall()] == [
        "admin",
        "auth",
        "contenttypes",
        "monitor_budgets",
        "monitor_hooks",
        "monitor_orders",
        "monitor_providers",
        "sessions",
    ]

    # The admin logs in and shows the platform's orders; the monitor checks them.
    integration = legacy_integration(cursor, sandbox.base_url)
    reference = uuid.uuid4().hex
    sandbox.add_order(reference, pin="PIN-PLATFORM-0001", checks_until_final=1)
    order = legacy_sent_order(cursor, integration, reference)
    with served_admin(DATABASE_URL=database.url) as admin:
        session = admin_session(admin, "monitor-admin", "Monitor-admin-pw-1")
        orders_page = session.get(f"{admin}/admin/monitor_orders/order/", timeout=10)
        integration_page = session.get(f"{admin}/admin/monitor_providers/integration/{integration}/change/", timeout=10)
    assert orders_page.status_code == 200 and order in orders_page.text
    assert integration_page.status_code == 200
    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=database.url)
    assert code == 0, stderr
    assert stdout.startswith("checked=1 completed=1 "), stdout
    cursor.execute('SELECT status, "pinCode" FROM product_orders WHERE id = %s', (order,))
    assert cursor.fetchone() == ("approved", "PIN-PLATFORM-0001")
    # The session and the superuser are the monitor's; the platform's tables never saw them.
    cursor.execute(f"SELECT COUNT(*) FROM {MONITOR_SCHEMA}.django_session")
    assert cursor.fetchone()[0] == 1
    assert snapshot(cursor) == before


def column_types(cursor, columns_by_table):
    """information_schema's view of each (table, column) in public."""
    cursor.execute(
        """SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, numeric_scale,
                  is_nullable, column_default
           FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY(%s)""",
        (list(columns_by_table),),
    )
    names = ("data_type", "character_maximum_length", "numeric_precision", "numeric_scale", "is_nullable", "default")
    found = {}
    for table, column, *values in cursor.fetchall():
        if column in columns_by_table[table]:
            found[(table, column)] = dict(zip(names, values, strict=True))
    return found


def platform_columns():
    """{platform table: the columns the monitor's models use}."""
    columns = {}
    for model in apps.get_models():
        if model._meta.db_table in PLATFORM_TABLES:
            columns.setdefault(model._meta.db_table, set()).update(f.column for f in model._meta.concrete_fields)
    return columns


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_fresh_database_has_the_platform_tables_in_public_with_the_live_types(legacy_databases):
    live = legacy_databases.create()
    wanted = platform_columns()
    assert set(wanted) == PLATFORM_TABLES

    with connection.cursor() as cursor:
        fresh = column_types(cursor, wanted)
    live_types = column_types(live.connection.cursor(), wanted)

    assert set(fresh) == {(table, column) for table, columns in wanted.items() for column in columns}
    # The live table has every column the models use but the monitor's own (the upgrade adds them).
    assert {column for table, column in set(fresh) - set(live_types)} == set(MONITOR_COLUMNS)
    differences = []
    for key, live_column in live_types.items():
        for name, value in live_column.items():
            if name == "default" and key[1] == "id":
                continue
            if fresh[key][name] != value and (*key, name) not in FRESH_DIFFERS:
                differences.append((*key, name, fresh[key][name], value))
    assert differences == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_table_is_in_its_schema():
    """The platform's tables in public; every other table of the models, Django's own included,
    in the monitor's schema (and nowhere else)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, table_schema FROM information_schema.tables WHERE table_schema IN ('public', %s)",
            (MONITOR_SCHEMA,),
        )
        schemas = {}
        for table, schema in cursor.fetchall():
            schemas.setdefault(table, []).append(schema)

    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    assert {table: schemas.get(table) for table in tables} == {
        table: ["public"] if table in PLATFORM_TABLES else [MONITOR_SCHEMA] for table in tables
    }


@pytest.mark.postgres
@pytest.mark.django_db
def test_django_sees_the_monitors_schema_and_the_platform_tables_only():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schemas(false)")
        assert cursor.fetchone()[0] == [MONITOR_SCHEMA, "public"]
        # A table of the platform's the models do not use, such as its django_migrations on the
        # live database, is not the monitor's, even where nothing in the monitor's schema hides it.
        cursor.execute("CREATE TABLE public.platform_only (id integer)")
        names = connection.introspection.table_names(cursor)

    assert "platform_only" not in names
    assert {"django_migrations", "auth_user", "order_status_events"} | PLATFORM_TABLES <= set(names)


@pytest.mark.slow  # a process
@pytest.mark.parametrize("schema", ["public", "Order-Monitor", "pg_monitor"])
def test_a_schema_that_is_not_the_monitors_own_stops_every_command(schema):
    code, stdout, stderr = run_command("check", MONITOR_DB_SCHEMA=schema)

    assert code == 2
    assert stderr.strip() == (
        "Configuration error: MONITOR_DB_SCHEMA must be a lower-case PostgreSQL name (letters, digits, _), "
        f"not public, not starting with pg_, got {schema!r}"
    )


@pytest.mark.django_db(transaction=True)  # DDL; the columns are back when the test ends
def test_a_table_of_an_older_version_gets_the_columns_the_models_use_and_keeps_its_rows():
    order = create_sent_order()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for column in ("durationMs", "notesCount"):
            cursor.execute(f"ALTER TABLE product_orders DROP COLUMN {quote(column)}")

    with connection.schema_editor() as schema_editor:
        orders_initial.build_platform_tables(apps, schema_editor)

    stored = Order.objects.get(pk=order.pk)
    assert (stored.duration_ms, stored.notes_count) == (None, 0)  # back, with the live default
    assert (stored.provider_referans, stored.external_status) == (order.provider_referans, "sent")


@pytest.mark.postgres
@pytest.mark.slow  # psql, through manage.py dbshell
@pytest.mark.django_db
def test_dbshell_finds_the_tables_as_the_monitor_does():
    code, stdout, stderr = run_command("dbshell", "--", "-Atc", "SHOW search_path")

    assert (code, stdout.strip(), stderr) == (0, f"{MONITOR_SCHEMA},public", "")
