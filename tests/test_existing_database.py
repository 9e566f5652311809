"""Pointing the monitor at a database the older application built and keeps writing to."""

import uuid

import pytest
from django.db import connection

from tests.commands import run_command
from tests.factories import legacy_integration, legacy_sent_order
from tests.legacy_db import UPGRADE_SCRIPT

pytestmark = pytest.mark.postgres

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
MONITOR_COLUMNS = ("provider_referans", "next_check_at", "check_attempts", "last_check_error")


@pytest.fixture
def legacy_database(legacy_databases):
    """A database with the older application's tables only."""
    database = legacy_databases.create()
    return database.connection, database.url


@pytest.mark.slow
def test_upgrade_script_then_monitor_runs_against_the_old_tables(legacy_database, sandbox):
    db, url = legacy_database
    cursor = db.cursor()
    integration_id = legacy_integration(cursor, sandbox.base_url)
    before = []
    for _ in range(3):
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, pin=f"PIN-{reference[:8]}", checks_until_final=1)
        before.append(legacy_sent_order(cursor, integration_id, reference))

    # Twice: the script must be idempotent.
    cursor.execute(UPGRADE_SCRIPT.read_text())
    cursor.execute(UPGRADE_SCRIPT.read_text())

    # The older application keeps inserting rows without the new columns.
    reference = uuid.uuid4().hex
    sandbox.add_order(reference, checks_until_final=1)
    after = legacy_sent_order(cursor, integration_id, reference, external_status="pending")
    cursor.execute("SELECT check_attempts, next_check_at FROM product_orders WHERE id = %s", (after,))
    assert cursor.fetchone() == (0, None)

    code, stdout, stderr = run_command("migrate", "--fake-initial", "-v", "0", DATABASE_URL=url)
    assert code == 0, stderr
    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=url)
    assert code == 0, stderr
    assert "checked=4 completed=4" in stdout

    cursor.execute("""SELECT status::text, "externalStatus", "pinCode" FROM product_orders ORDER BY "pinCode" """)
    rows = cursor.fetchall()
    assert all(row[:2] == ("approved", "completed") for row in rows)
    assert all(row[2] for row in rows)
    for query in OPERATOR_QUERIES:
        cursor.execute(query, (str(after),) if "%s" in query else None)
        cursor.fetchall()
    cursor.execute("SELECT COUNT(*) FROM order_status_events")
    assert cursor.fetchone()[0] == 4


def column_layout(cursor):
    cursor.execute(
        """SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
           WHERE table_name = 'product_orders' AND column_name = ANY(%s) ORDER BY column_name""",
        (list(MONITOR_COLUMNS),),
    )
    columns = cursor.fetchall()
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'product_orders_due_idx'")
    return columns, cursor.fetchone()[0]


@pytest.mark.django_db
def test_migrations_and_upgrade_script_build_the_same_monitor_columns(legacy_database):
    db, _ = legacy_database
    legacy_cursor = db.cursor()
    legacy_cursor.execute(UPGRADE_SCRIPT.read_text())
    with connection.cursor() as migrated_cursor:
        migrated = column_layout(migrated_cursor)
    legacy = column_layout(legacy_cursor)
    assert legacy[0] == migrated[0]
    # The index definitions differ only in how each table types "externalStatus" (varchar/text).
    for indexdef in (legacy[1], migrated[1]):
        assert "(COALESCE(next_check_at, '1970-01-01 00:00:00+00'::timestamp with time zone), id) WHERE" in indexdef
        assert all(f"'{status}'" in indexdef for status in ("pending", "sent", "processing"))
