"""check_pending_orders against a copy of the live schema, with its real column types and sizes
("lastMessage" varchar(250), "pinCode" varchar(120), ...): long provider texts and PINs must
never make a write fail or be cut."""

import uuid

import pytest

from tests.commands import run_command
from tests.factories import legacy_integration, legacy_sent_order

pytestmark = pytest.mark.postgres

LONG_REASON = ("Oyuncu kimliği doğrulanamadı, sipariş sağlayıcı tarafından iptal edildi. " * 5)[:300]
LONG_PIN = ("GIFTCARD-" + "7F3E9C1D5B" * 20)[:150]


@pytest.fixture
def live_database(legacy_databases):
    """(cursor, DATABASE_URL) of a copy of the live database (its tables as the platform's own
    migrations build them, and the platform's own Django bookkeeping), upgraded as
    docs/UPGRADING.md says."""
    database = legacy_databases.create_upgraded(platform_django=True)
    return database.connection.cursor(), database.url


def column_type(cursor, column):
    cursor.execute(
        """SELECT data_type, character_maximum_length FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = 'product_orders' AND column_name = %s""",
        (column,),
    )
    return cursor.fetchone()


def stored(cursor, order_id):
    cursor.execute(
        """SELECT "externalStatus", status, "lastMessage", "providerMessage", "pinCode", pin_code_full,
                  last_check_error, "completedAt"
           FROM product_orders WHERE id = %s""",
        (order_id,),
    )
    names = ("external_status", "status", "last_message", "provider_message", "pin_code", "pin_code_full")
    return dict(zip(names + ("last_check_error", "completed_at"), cursor.fetchone(), strict=True))


def test_the_copy_has_the_live_column_types(live_database):
    cursor, _ = live_database
    assert column_type(cursor, "lastMessage") == ("character varying", 250)
    assert column_type(cursor, "pinCode") == ("character varying", 120)
    assert column_type(cursor, "providerMessage") == ("text", None)
    assert column_type(cursor, "pin_code_full") == ("text", None)
    assert column_type(cursor, "provider_referans") == ("character varying", 255)
    assert column_type(cursor, "status") == column_type(cursor, "externalStatus") == ("character varying", None)


@pytest.mark.slow
def test_a_long_reason_fails_the_order_and_a_long_pin_holds_it_on_the_live_types(live_database, sandbox):
    cursor, url = live_database
    integration_id = legacy_integration(cursor, sandbox.base_url)
    rejected_ref, long_pin_ref, normal_ref = (uuid.uuid4().hex for _ in range(3))
    sandbox.add_order(rejected_ref, outcome="failed", reason=LONG_REASON, checks_until_final=1)
    sandbox.add_order(long_pin_ref, pin=LONG_PIN, checks_until_final=1)
    sandbox.add_order(normal_ref, pin="PIN-0000-1111-2222", checks_until_final=1)
    rejected = legacy_sent_order(cursor, integration_id, rejected_ref)
    long_pin = legacy_sent_order(cursor, integration_id, long_pin_ref)
    normal = legacy_sent_order(cursor, integration_id, normal_ref)

    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=url)

    assert code == 0, stderr
    assert "checked=3 completed=1 failed=1 processing=0 errors=0 timed_out=0" in stdout
    assert "held=1" in stdout and "update_failures" not in stdout
    failed = stored(cursor, rejected)
    assert (failed["external_status"], failed["status"]) == ("failed", "rejected")
    assert len(failed["last_message"]) == 250 and failed["last_message"].endswith("…")
    assert failed["last_message"].startswith("failed at the provider: Oyuncu kimliği")
    assert failed["provider_message"] == LONG_REASON and len(LONG_REASON) == 300
    held = stored(cursor, long_pin)
    assert (held["external_status"], held["status"], held["completed_at"]) == ("sent", "pending", None)
    assert (held["pin_code"], held["pin_code_full"]) == (None, LONG_PIN) and len(LONG_PIN) == 150
    assert held["last_check_error"].startswith('PIN of 150 characters does not fit "pinCode" (120)')
    assert stored(cursor, normal)["pin_code"] == "PIN-0000-1111-2222"
    assert LONG_PIN not in stdout + stderr
    cursor.execute("SELECT COUNT(*) FROM order_monitor.order_status_events WHERE order_id = %s", (long_pin,))
    assert cursor.fetchone()[0] == 0

    # Long past the 24 h mark, the held order is still neither checked nor timed out.
    cursor.execute("""UPDATE product_orders SET "sentAt" = NOW() - INTERVAL '30 hours' WHERE id = %s""", (long_pin,))
    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=url)
    assert code == 0, stderr
    assert stdout.startswith("checked=0 ")
    assert len(sandbox.status_checks(long_pin_ref)) == 1
    assert stored(cursor, long_pin) == held
