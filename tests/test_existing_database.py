"""Pointing the monitor at the platform's live database (tests/fixtures/live_schema.sql, with the
platform's own Django bookkeeping), and moving a previous monitor installation into the monitor's
schema, as docs/UPGRADING.md says: sql/upgrade_existing_database.sql, then `migrate`."""

import uuid

import pytest
from django.db import connection

from orders.models import ACTIVE_STATUSES
from tests.commands import admin_session, run_command, served_admin
from tests.factories import legacy_integration, legacy_sent_order
from tests.legacy_db import PREVIOUS_INSTALLATION, run_upgrade_script

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # psql and the commands run as processes

OPERATOR_QUERIES = [
    """SELECT COUNT(*) FROM product_orders WHERE "externalStatus" IN ('pending', 'sent', 'processing')""",
    """SELECT id, "externalStatus", "sentAt", "lastSyncAt" FROM product_orders
       WHERE "externalStatus" IN ('pending', 'sent', 'processing')
         AND "sentAt" < NOW() - INTERVAL '1 minute' AND "sentAt" > NOW() - INTERVAL '24 hours'""",
    """SELECT id, "externalStatus", "pinCode", "sentAt", "completedAt" FROM product_orders
       WHERE "externalStatus" = 'completed' ORDER BY "completedAt" DESC LIMIT 10""",
    """SELECT id, "externalStatus", provider_referans, "pinCode", "sentAt", "lastSyncAt"
       FROM product_orders WHERE id = %s""",
]
MONITOR_COLUMNS = (
    "provider_referans",
    "next_check_at",
    "check_attempts",
    "last_check_error",
    "pin_code_full",
    "hold_reason",
    "permanent_error_since",
    "consecutive_errors",
    "monitor_leased_until",
)
DJANGO_BOOKKEEPING = (
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "auth_group",
    "auth_user",
    "django_admin_log",
    "django_session",
)
MONITOR_TABLES = ("order_status_events", "order_monitor_runs")


def schemas_of(cursor, tables):
    """{table: [schemas that have it]}."""
    cursor.execute(
        """SELECT table_name, array_agg(table_schema::text ORDER BY table_schema) FROM information_schema.tables
           WHERE table_name = ANY(%s) GROUP BY table_name""",
        (list(tables),),
    )
    return dict(cursor.fetchall())


def test_upgrade_script_then_migrate_then_the_monitor_runs_on_the_live_tables(legacy_databases, sandbox):
    database = legacy_databases.create(platform_django=True)
    cursor = database.connection.cursor()
    integration_id = legacy_integration(cursor, sandbox.base_url)
    for _ in range(3):
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, pin=f"PIN-{reference[:8]}", checks_until_final=1)
        legacy_sent_order(cursor, integration_id, reference)

    # Twice: the script is idempotent.
    for _ in range(2):
        code, _, stderr = run_upgrade_script(database)
        assert code == 0, stderr

    # The platform keeps inserting rows without the monitor's columns.
    reference = uuid.uuid4().hex
    sandbox.add_order(reference, checks_until_final=1)
    after = legacy_sent_order(cursor, integration_id, reference, external_status="pending")
    cursor.execute("SELECT check_attempts, next_check_at, hold_reason FROM product_orders WHERE id = %s", (after,))
    assert cursor.fetchone() == (0, None, None)

    code, stdout, stderr = run_command("migrate", "-v", "0", DATABASE_URL=database.url)
    assert code == 0, stderr
    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=database.url)
    assert code == 0, stderr
    assert "checked=4 completed=4" in stdout

    cursor.execute("""SELECT status, "externalStatus", "pinCode" FROM product_orders""")
    rows = cursor.fetchall()
    assert len(rows) == 4
    assert all(status == "approved" and external not in ACTIVE_STATUSES and pin for status, external, pin in rows)
    for query in OPERATOR_QUERIES:
        cursor.execute(query, (after,) if "%s" in query else None)
        cursor.fetchall()
    cursor.execute("SELECT COUNT(*) FROM order_monitor.order_status_events")
    assert cursor.fetchone()[0] == 4


def column_layout(cursor):
    """The monitor's columns on public.product_orders, and the due index's definition."""
    cursor.execute(
        """SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
           FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = 'product_orders' AND column_name = ANY(%s)
           ORDER BY column_name""",
        (list(MONITOR_COLUMNS),),
    )
    columns = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'product_orders' "
        "AND indexname IN ('product_orders_monitor_due_idx', 'product_orders_due_idx')"
    )
    return columns, cursor.fetchall()


@pytest.mark.django_db
def test_the_script_migrate_and_a_fresh_database_build_the_same_monitor_columns_and_due_index(legacy_databases):
    scripted, migrated = (legacy_databases.create(platform_django=True) for _ in range(2))
    code, _, stderr = run_upgrade_script(scripted)
    assert code == 0, stderr
    code, _, stderr = run_command("migrate", "-v", "0", DATABASE_URL=migrated.url)
    assert code == 0, stderr
    with connection.cursor() as fresh_cursor:
        fresh = column_layout(fresh_cursor)

    layouts = [column_layout(scripted.connection.cursor()), column_layout(migrated.connection.cursor()), fresh]
    assert layouts[0][0] == layouts[1][0] == fresh[0]
    assert [name for name, *_ in fresh[0]] == sorted(MONITOR_COLUMNS)
    for _, indexes in layouts:
        ((name, indexdef),) = indexes  # the old product_orders_due_idx is gone
        assert name == "product_orders_monitor_due_idx"
        assert "(COALESCE(next_check_at, '1970-01-01 00:00:00+00'::timestamp with time zone), id) WHERE" in indexdef
        assert all(f"'{status}'" in indexdef for status in ACTIVE_STATUSES)
        assert "(hold_reason IS NULL)" in indexdef


def test_the_live_provider_referans_and_its_index_are_left_as_they_are(legacy_databases):
    database = legacy_databases.create_upgraded(platform_django=True)
    cursor = database.connection.cursor()
    cursor.execute(
        """SELECT data_type, character_maximum_length FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = 'product_orders' AND column_name = 'provider_referans'"""
    )
    assert cursor.fetchone() == ("character varying", 255)
    cursor.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%(provider_referans)%'")
    assert cursor.fetchall() == [("idx_orders_provider_referans",)]


def test_a_previous_installation_is_moved_into_the_monitors_schema(legacy_databases, sandbox):
    database = legacy_databases.create(PREVIOUS_INSTALLATION.read_text())
    cursor = database.connection.cursor()

    code, _, stderr = run_upgrade_script(database)
    assert code == 0, stderr
    assert "moved the monitor's Django tables from public to order_monitor" in stderr
    code, _, stderr = run_command("migrate", "-v", "0", DATABASE_URL=database.url)
    assert code == 0, stderr

    # The bookkeeping and the history moved, rows and all; public keeps the platform's tables only.
    where = schemas_of(cursor, DJANGO_BOOKKEEPING + MONITOR_TABLES)
    assert where == {table: ["order_monitor"] for table in DJANGO_BOOKKEEPING + MONITOR_TABLES}
    cursor.execute("SELECT to_status, message FROM order_monitor.order_status_events")
    assert cursor.fetchall() == [("completed", "completed")]
    cursor.execute("SELECT host FROM order_monitor.order_monitor_runs")
    assert cursor.fetchall() == [("old-host",)]
    # Content types keep their ids under the new labels: the operator's permission and the admin
    # log entry still point at them; the old labels' migration records are gone.
    cursor.execute(
        """SELECT ct.app_label, ct.model, p.codename FROM order_monitor.auth_user_user_permissions up
           JOIN order_monitor.auth_permission p ON p.id = up.permission_id
           JOIN order_monitor.django_content_type ct ON ct.id = p.content_type_id"""
    )
    assert cursor.fetchall() == [("monitor_orders", "order", "view_order")]
    cursor.execute(
        """SELECT ct.app_label, ct.model FROM order_monitor.django_admin_log log
           JOIN order_monitor.django_content_type ct ON ct.id = log.content_type_id"""
    )
    assert cursor.fetchall() == [("monitor_providers", "integration")]
    cursor.execute(
        "SELECT DISTINCT app FROM order_monitor.django_migrations WHERE app LIKE '%orders' OR app LIKE '%providers'"
    )
    assert sorted(row[0] for row in cursor.fetchall()) == ["monitor_orders", "monitor_providers"]
    # The order held for its long PIN is held with a reason now.
    cursor.execute("SELECT provider_referans, hold_reason FROM product_orders ORDER BY provider_referans")
    assert cursor.fetchall() == [
        ("old-ref-done", None),
        ("old-ref-held", 'PIN too long for "pinCode": kept whole in pin_code_full'),
        ("old-ref-sent", None),
    ]

    # The monitor carries on where it was: its sent order is checked again (it names no customer,
    # so its delivered PIN waits for an operator instead of an approval without its money), the
    # held one is left alone.
    cursor.execute('UPDATE integrations SET "baseUrl" = %s', (sandbox.base_url,))
    cursor.execute(
        """UPDATE product_orders SET "sentAt" = NOW() - INTERVAL '5 minutes' WHERE "externalStatus" = 'sent'"""
    )
    sandbox.add_order("old-ref-sent", pin="PIN-OLD-0001", checks_until_final=1)
    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=database.url)
    assert code == 0, stderr
    assert stdout.startswith("checked=1 completed=0 ") and "held=1" in stdout, stdout
    cursor.execute("SELECT hold_reason FROM product_orders WHERE provider_referans = 'old-ref-sent'")
    assert 'no "userId"' in cursor.fetchone()[0]
    # The old admin users log in, and the operator still sees the orders.
    with served_admin(DATABASE_URL=database.url) as admin:
        admin_session(admin, "oldadmin", "old-admin-pw")
        operator = admin_session(admin, "operator", "operator-pw")
        page = operator.get(f"{admin}/admin/monitor_orders/order/", timeout=10)
    assert page.status_code == 200
    assert "0b7f1a3e-9d2c-4e5f-8a61-3c2b1d0e9f01" in page.text


# What the previous version left on the platform's database: its records among the platform's
# in django_migrations (its `providers.0001_initial` has the name of the platform's own), and
# its history and runs in public.
PREVIOUS_VERSION_ON_THE_PLATFORM = """
    INSERT INTO public.django_migrations (app, name, applied) VALUES
        ('orders', '0001_initial', now()), ('orders', '0002_due_index', now()),
        ('orders', '0003_history_and_runs', now()), ('providers', '0002_live_column_sizes', now());
    CREATE TABLE public.order_status_events (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, from_status text NOT NULL, to_status text NOT NULL,
        created_at timestamp with time zone NOT NULL, source text NOT NULL, message text NOT NULL,
        order_id uuid NOT NULL);
    CREATE TABLE public.order_monitor_runs (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, started_at timestamp with time zone NOT NULL,
        finished_at timestamp with time zone, succeeded boolean NOT NULL, host text NOT NULL,
        checked integer NOT NULL, completed integer NOT NULL, failed integer NOT NULL, processing integer NOT NULL,
        errors integer NOT NULL, timed_out integer NOT NULL, released integer NOT NULL);
    INSERT INTO public.order_status_events (from_status, to_status, created_at, source, message, order_id)
        VALUES ('sent', 'completed', now(), 'run', 'completed', gen_random_uuid());
"""


@pytest.mark.parametrize("script", [True, False], ids=["script then migrate", "migrate alone"])
def test_on_the_platforms_database_only_the_monitors_own_tables_move(legacy_databases, script):
    database = legacy_databases.create(platform_django=True)
    cursor = database.connection.cursor()
    cursor.execute(PREVIOUS_VERSION_ON_THE_PLATFORM)
    cursor.execute("SELECT * FROM public.django_migrations ORDER BY id")
    platform_records = cursor.fetchall()

    if script:
        code, _, stderr = run_upgrade_script(database)
        assert code == 0, stderr
    code, _, stderr = run_command("migrate", "-v", "0", DATABASE_URL=database.url)
    assert code == 0, stderr

    cursor.execute("SELECT * FROM public.django_migrations ORDER BY id")
    assert cursor.fetchall() == platform_records  # not moved, not changed
    where = schemas_of(cursor, ("django_migrations", "django_content_type", "auth_user") + MONITOR_TABLES)
    assert where == {
        "django_migrations": ["order_monitor", "public"],
        "django_content_type": ["order_monitor", "public"],
        "auth_user": ["order_monitor"],
        "order_status_events": ["order_monitor"],
        "order_monitor_runs": ["order_monitor"],
    }
    cursor.execute("SELECT to_status FROM order_monitor.order_status_events")
    assert cursor.fetchall() == [("completed",)]


def test_another_schema_name_is_used_by_the_script_and_the_monitor_alike(legacy_databases):
    database = legacy_databases.create(platform_django=True)
    code, _, stderr = run_upgrade_script(database, "-v", "monitor_schema=monitor_elsewhere")
    assert code == 0, stderr
    code, _, stderr = run_command(
        "migrate", "-v", "0", DATABASE_URL=database.url, MONITOR_DB_SCHEMA="monitor_elsewhere"
    )
    assert code == 0, stderr
    cursor = database.connection.cursor()
    assert schemas_of(cursor, ("django_migrations", "order_status_events")) == {
        "django_migrations": ["monitor_elsewhere", "public"],
        "order_status_events": ["monitor_elsewhere"],
    }
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'order_monitor'")
    assert cursor.fetchall() == []
