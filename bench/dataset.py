"""The benchmark's product_orders: 990,000 final orders and 10,000 active ones, loaded with
INSERT ... SELECT generate_series (seconds, where the ORM would take minutes).

Active orders get ids 00000000-0000-4000-8000-<n, 12 digits> (n = 1..ACTIVE), so a phase can
reset them or make the first k due through the primary key, without scanning the table.
"""

from django.db import connection

FINAL = 990_000
ACTIVE = 10_000
REFERENCE_PREFIX = "act-"  # active order n asks the provider about "act-<n>"

_ACTIVE_ID = "('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid"
_COLUMNS = (
    '(id, status, "externalStatus", "providerId", "externalOrderId", "pinCode", "providerMessage", '
    '"lastMessage", "sentAt", "lastSyncAt", "completedAt", "createdAt", provider_referans, '
    "next_check_at, check_attempts)"
)


def load(integration_ids, payer=None):
    """Fill product_orders; the active orders alternate between the integrations, none due.
    `payer` ({"tenant_id", "user_id"}, tests.factories.customer_fields): the customer of the
    active orders, whose approvals then move their money as on the platform."""
    ids = [str(i) for i in integration_ids]
    provider = f"(%(ids)s::text[])[1 + mod(n, {len(ids)})]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO product_orders {_COLUMNS} "
            f"SELECT gen_random_uuid(), 'approved', 'completed', {provider}, 'ext-' || n, "
            "'PIN-' || md5(n::text), 'İşlem başarılı', 'completed', now() - interval '2 days', "
            "now() - interval '2 days', now() - interval '2 days', now() - interval '2 days', "
            f"'fin-' || n, NULL, 1 FROM generate_series(1, {FINAL}) n",
            {"ids": ids},
        )
        cursor.execute(
            f"INSERT INTO product_orders {_COLUMNS} "
            f"SELECT {_ACTIVE_ID}, 'pending', 'sent', {provider}, NULL, NULL, NULL, NULL, "
            "now(), NULL, NULL, now(), %(prefix)s || n, now() + interval '1 day', 0 "
            f"FROM generate_series(1, {ACTIVE}) n",
            {"ids": ids, "prefix": REFERENCE_PREFIX},
        )
        if payer:
            cursor.execute(
                'UPDATE product_orders SET "tenantId" = %s, "userId" = %s WHERE "externalStatus" = \'sent\'',
                [payer["tenant_id"], payer["user_id"]],
            )
    vacuum()


def make_due(count):
    """All active orders back to 'sent' and not due; then the first `count` due: half never
    checked (NULL), half rescheduled into the past, as a real backlog looks. mod(n, 4), not
    mod(n, 2): the integration is mod(n, 2), and each claim must take both integrations' orders.
    Order n was sent n seconds before the others (the claim takes the oldest first)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE product_orders p SET status = 'pending', \"externalStatus\" = 'sent', \"pinCode\" = NULL, "
            '"providerMessage" = NULL, "lastMessage" = NULL, "lastSyncAt" = NULL, "completedAt" = NULL, '
            "\"sentAt\" = now() - interval '5 minutes' - n * interval '1 second', "
            "next_check_at = now() + interval '1 day', "
            f"check_attempts = 0, last_check_error = NULL FROM generate_series(1, {ACTIVE}) n WHERE p.id = {_ACTIVE_ID}"
        )
        cursor.execute(
            "UPDATE product_orders p SET next_check_at = CASE WHEN mod(n, 4) < 2 THEN NULL "
            "ELSE now() - n * interval '1 second' END "
            f"FROM generate_series(1, %s) n WHERE p.id = {_ACTIVE_ID}",
            [count],
        )
        cursor.execute("TRUNCATE order_status_events, order_monitor_runs")
    vacuum()


def vacuum():
    # Every phase starts from a vacuumed, analyzed table, as autovacuum keeps a live one.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) product_orders")


def due_count():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM product_orders WHERE \"externalStatus\" IN ('pending', 'sent', 'processing') "
            "AND (next_check_at IS NULL OR next_check_at <= now())"
        )
        return cursor.fetchone()[0]


def checked_orders():
    """(status changes written, distinct orders changed) since the last make_due: equal when
    no order was checked twice."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT order_id) FROM order_status_events")
        return cursor.fetchone()


def table_counts():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE \"externalStatus\" IN ('pending', 'sent', 'processing')) "
            "FROM product_orders"
        )
        return cursor.fetchone()
