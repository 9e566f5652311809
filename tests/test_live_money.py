"""The money of a final status on a copy of the live database (tests/fixtures/live_schema.sql,
the platform's own migrations), with rows written the way the platform writes them: its NestJS
side creates the tenant, the customer (`users`), the rates and the order; its Django side the
`dj_users` account and the ledger row that charged the order. check_pending_orders then runs
as an operator runs it, against the znet sandbox over HTTP."""

import json
import uuid
from decimal import Decimal

import pytest

from tests.commands import run_command
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE
from tests.legacy_db import LIVE_SCHEMA

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PRICE_TRY = Decimal("65.50")


@pytest.fixture
def live(legacy_databases):
    """(cursor, DATABASE_URL) of an upgraded copy of the live database."""
    database = legacy_databases.create_upgraded(LIVE_SCHEMA.read_text())
    return database.connection.cursor(), database.url


def platform_shop(cursor, base_url, try_rate="32.5"):
    """A tenant with its TRY rate, a znet integration, a customer and their dj_users account
    (email in another case, as the two sides store it), as the platform creates them."""
    cursor.execute("""INSERT INTO tenant (name, code) VALUES ('Shop', %s) RETURNING id""", (uuid.uuid4().hex[:12],))
    tenant = cursor.fetchone()[0]
    cursor.execute(
        """INSERT INTO currencies ("tenantId", code, rate, "isActive", "isPrimary", name)
           VALUES (%s, 'TRY', %s, true, false, 'Türk lirası')""",
        (tenant, try_rate),
    )
    cursor.execute(
        """INSERT INTO integrations (name, provider, "baseUrl", kod, sifre, scope, "tenantId", enabled)
           VALUES ('znet', 'znet', %s, %s, %s, 'tenant', %s, NULL) RETURNING id""",
        (base_url, SANDBOX_KOD, SANDBOX_SIFRE, tenant),
    )
    integration = str(cursor.fetchone()[0])
    cursor.execute(
        """INSERT INTO users (email, username, role, balance, "tenantId")
           VALUES ('Ayse@Example.com', 'ayse', 'user', 100.00, %s) RETURNING id""",
        (tenant,),
    )
    user = cursor.fetchone()[0]
    cursor.execute(
        """INSERT INTO dj_users (password, is_superuser, username, first_name, last_name, email, is_staff,
               is_active, date_joined, balance, currency, status, overdraft, role, force_totp_enroll,
               totp_failed_attempts, tenant_id, full_name, phone_number, country_code,
               preferred_currency_code, legacy_password_hash)
           VALUES ('!', false, 'ayse-dj', '', '', 'ayse@example.com', false, true, now(), 100.000000, 'TRY',
               'active', 0, 'end_user', false, 0, %s, 'Ayşe', '', 'TR', 'TRY', '')
           RETURNING id""",
        (tenant,),
    )
    account = cursor.fetchone()[0]
    return tenant, integration, user, account


def platform_order(cursor, tenant, integration, user, account, reference, pin_code=None, user_id="same"):
    """An order as the platform creates and sends it: charged (its ledger row), priced, sent."""
    cursor.execute(
        """INSERT INTO product_orders ("tenantId", "userId", quantity, "sellPriceCurrency", "sellPriceAmount",
               price, "costCurrency", "costAmount", status, "providerId", "externalOrderId", provider_referans,
               "externalStatus", "sentAt", "pinCode", notes, "notesCount")
           VALUES (%s, %s, 1, 'TRY', %s, 2.00, 'TRY', 48.75, 'pending', %s, %s, %s, 'sent',
               now() - interval '5 minutes', %s, '[{"by": "system", "text": "sent", "at": "2026-01-01"}]', 1)
           RETURNING id""",
        (tenant, user if user_id == "same" else user_id, PRICE_TRY, integration, reference, reference, pin_code),
    )
    order = cursor.fetchone()[0]
    cursor.execute(
        """INSERT INTO wallet_transactions (id, transaction_type, amount, currency, balance_before, balance_after,
               description, order_id, created_at, metadata, user_id)
           VALUES (gen_random_uuid(), 'approved', %s, 'TRY', 165.5, 100, 'Sipariş', %s, now() - interval '6 minutes',
               '{"order_status": "pending"}', %s)""",
        (-PRICE_TRY, order, account),
    )
    return order


def row(cursor, sql, *params):
    cursor.execute(sql, params)
    names = [column.name for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def test_a_rejected_order_is_refunded_and_an_approved_one_reaches_the_reports(live, sandbox):
    cursor, url = live
    tenant, integration, user, account = platform_shop(cursor, sandbox.base_url)
    failed_ref, done_ref, placeholder_ref, orphan_ref = "1733000000001", "1733000000002", "1733000000003", "17330004"
    sandbox.add_order(failed_ref, outcome="failed", reason="Stok yok", checks_until_final=1)
    sandbox.add_order(done_ref, pin="AB12-CD34-EF56-GH78", checks_until_final=1)
    sandbox.add_order(placeholder_ref, pin="ZZ99-YY88", checks_until_final=1)
    sandbox.add_order(orphan_ref, outcome="failed", reason="iptal", checks_until_final=1)
    failed = platform_order(cursor, tenant, integration, user, account, failed_ref)
    done = platform_order(cursor, tenant, integration, user, account, done_ref)
    placeholder = platform_order(cursor, tenant, integration, user, account, placeholder_ref, pin_code=" - ")
    orphan = platform_order(cursor, tenant, integration, user, account, orphan_ref, user_id=None)

    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=url)

    assert code == 0, stderr
    assert "checked=4 completed=2 failed=1" in stdout and "held=1" in stdout
    rejected = row(cursor, "SELECT * FROM product_orders WHERE id = %s", failed)
    assert (rejected["status"], rejected["externalStatus"], rejected["notesCount"]) == ("rejected", "failed", 2)
    assert rejected["completedAt"] is not None and rejected["durationMs"] >= 300_000
    assert rejected["providerMessage"] == "Stok yok"
    # 100 + 65.50 refunded, once; the orphan's money is not touched.
    assert row(cursor, "SELECT balance FROM users WHERE id = %s", user)["balance"] == Decimal("165.50")
    assert row(cursor, "SELECT balance FROM dj_users WHERE id = %s", account)["balance"] == Decimal("165.5")
    refund = row(
        cursor, "SELECT * FROM wallet_transactions WHERE order_id = %s AND transaction_type = 'rejected'", failed
    )
    assert (refund["amount"], refund["balance_before"], refund["balance_after"]) == (PRICE_TRY, 100, Decimal("165.5"))
    assert refund["metadata"]["order_status"] == "rejected" and refund["metadata"]["previous_status"] == "pending"
    charge = row(
        cursor, "SELECT metadata FROM wallet_transactions WHERE order_id = %s AND transaction_type = 'approved'", failed
    )
    assert charge["metadata"]["order_status"] == "rejected" and "rejected_at" in charge["metadata"]

    approved = row(cursor, "SELECT * FROM product_orders WHERE id = %s", done)
    assert (approved["status"], approved["externalStatus"], approved["pinCode"]) == (
        "approved",
        "done",
        "AB12-CD34-EF56-GH78",
    )
    assert approved["fxUsdTryAtApproval"] == Decimal("32.5") and approved["fxLocked"] is True
    assert (approved["sellTryAtApproval"], approved["costTryAtApproval"]) == (Decimal("65.00"), Decimal("48.75"))
    assert (approved["profitTryAtApproval"], approved["profitUsdAtApproval"]) == (Decimal("16.25"), Decimal("0.50"))
    assert approved["approvedLocalDate"] is not None and len(approved["approvedLocalMonth"]) == 7
    # What the platform's report counts: approved orders by their local date, summing the frozen columns.
    report = row(
        cursor,
        """SELECT count(*) AS n, sum("profitTryAtApproval") AS profit FROM product_orders
           WHERE status = 'approved' AND "approvedLocalDate" IS NOT NULL AND "tenantId" = %s""",
        tenant,
    )
    assert (report["n"], report["profit"]) == (2, Decimal("32.50"))
    assert row(cursor, 'SELECT "pinCode" FROM product_orders WHERE id = %s', placeholder)["pinCode"] == "ZZ99-YY88"

    held = row(cursor, "SELECT * FROM product_orders WHERE id = %s", orphan)
    assert (held["status"], held["externalStatus"]) == ("pending", "sent")
    assert 'no "userId"' in held["hold_reason"]
    code, stdout, _ = run_command("monitor_health", "--json", DATABASE_URL=url)
    assert code == 1
    assert [entry["order_id"] for entry in json.loads(stdout)["held_orders"]] == [str(orphan)]

    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=url)
    assert code == 0 and "checked=0" in stdout, stderr  # nothing final or held is checked again
    assert row(cursor, "SELECT balance FROM users WHERE id = %s", user)["balance"] == Decimal("165.50")


def test_24_hours_without_an_answer_fails_the_order_for_an_operator_without_a_refund(live, sandbox):
    cursor, url = live
    tenant, integration, user, account = platform_shop(cursor, sandbox.base_url)
    sandbox.add_order("1733000000009", checks_until_final=100)
    order = platform_order(cursor, tenant, integration, user, account, "1733000000009")
    cursor.execute(
        """UPDATE product_orders SET "sentAt" = now() - interval '25 hours', "externalStatus" = 'unknown',
               "lastMessage" = 'sync: 1' WHERE id = %s""",
        (order,),
    )

    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=url)

    assert code == 0 and "timed_out=1" in stdout, stderr
    stored = row(cursor, 'SELECT status, "externalStatus", "lastMessage" FROM product_orders WHERE id = %s', order)
    assert stored == {
        "status": "pending",
        "externalStatus": "failed",
        "lastMessage": "sync: 1 | Timeout: No response after 24h",
    }
    assert row(cursor, "SELECT balance FROM users WHERE id = %s", user)["balance"] == Decimal("100.00")
    code, stdout, _ = run_command("monitor_health", "--json", DATABASE_URL=url)
    assert code == 1 and json.loads(stdout)["timed_out_waiting"] == 1
