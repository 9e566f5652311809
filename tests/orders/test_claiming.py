"""Which due orders a run claims first: the oldest (by "sentAt", else "createdAt"), so that after
an outage the orders nearest the 24 h limit are checked before younger ones; and on PostgreSQL
the claim's index scan still stops at the first order not yet due."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from orders.claiming import (
    NO_FILTER,
    OrderFilter,
    RunConfig,
    claim_due_orders,
    lease_end,
    preview_due_orders,
    run_seconds,
)
from orders.models import Order
from orders.monitor import check_due_orders
from tests.factories import create_sent_order

pytestmark = pytest.mark.django_db

INTEGRATION_ID = "6cd2a398-4518-4ef9-943d-6ce3358261d6"
# The largest UUID: an order with this id comes last wherever ties are broken by id.
LAST_ID = uuid.UUID("ffffffff-ffff-4fff-bfff-ffffffffffff")


def sent_order(sent_ago, **fields):
    return create_sent_order(INTEGRATION_ID, sent_ago=sent_ago, **fields)


def claim(limit, order_filter=NO_FILTER):
    now = timezone.now()
    return claim_due_orders(now, limit, now + timedelta(minutes=6), order_filter).orders


def test_an_order_sent_23_hours_ago_is_claimed_before_100_younger_ones():
    younger = [sent_order(sent_ago=timedelta(minutes=minutes)) for minutes in range(1, 101)]
    oldest = sent_order(sent_ago=timedelta(hours=23), id=LAST_ID)

    claimed = [o.pk for o in claim(100)]

    assert len(claimed) == 100
    assert claimed[0] == oldest.pk
    # The youngest is left for the next run.
    assert younger[0].pk not in claimed


def test_due_orders_are_claimed_oldest_first_whether_checked_before_or_not():
    now = timezone.now()
    rechecked_old = sent_order(sent_ago=timedelta(hours=20), next_check_at=now - timedelta(minutes=1))
    never_checked_young = sent_order(sent_ago=timedelta(minutes=3))
    no_sent_at = sent_order(sent_ago=timedelta(0), sent_at=None, created_at=now - timedelta(hours=5))
    never_checked_older = sent_order(sent_ago=timedelta(hours=2))
    # The oldest of all, but not due: it is not claimed.
    sent_order(sent_ago=timedelta(hours=23), next_check_at=now + timedelta(minutes=5))

    claimed = claim(10)

    assert [o.pk for o in claimed] == [rechecked_old.pk, no_sent_at.pk, never_checked_older.pk, never_checked_young.pk]


def test_dry_run_lists_the_orders_in_the_order_a_run_claims_them():
    young = sent_order(sent_ago=timedelta(minutes=1))
    old = sent_order(sent_ago=timedelta(hours=23), id=LAST_ID)

    assert [o.pk for o in preview_due_orders(timezone.now(), 10)] == [old.pk, young.pk]


def claim_query_plan(limit=100, order_filter=NO_FILTER):
    """EXPLAIN (FORMAT JSON) of the SELECT claim_due_orders sends (captured from a claim rolled
    back, so the plan is the product's query's)."""
    captured = []

    def capture(execute, sql, params, many, context):
        if not captured and sql.lstrip().upper().startswith("SELECT"):
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(capture):
        claim(limit, order_filter)
        transaction.set_rollback(True)
    sql, params = captured[0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    return plan if isinstance(plan, list) else json.loads(plan)


def plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def load_orders(final, active, due):
    """`final` final orders, `active` active ones of which the first `due` are due (half never
    checked, half rescheduled into the past), the rest due in the next hours; then ANALYZE, as
    autovacuum keeps a live table."""
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO product_orders (id, status, "externalStatus", "providerId", "sentAt", "createdAt", '
            "provider_referans, next_check_at, check_attempts) "
            "SELECT gen_random_uuid(), 'approved', 'completed', %s, now() - interval '2 days', "
            "now() - interval '2 days', 'fin-' || n, NULL, 1 FROM generate_series(1, %s) n",
            [INTEGRATION_ID, final],
        )
        cursor.execute(
            'INSERT INTO product_orders (id, status, "externalStatus", "providerId", "sentAt", "createdAt", '
            "provider_referans, next_check_at, check_attempts) "
            "SELECT gen_random_uuid(), 'pending', 'sent', %s, now() - n * interval '5 seconds', now(), "
            "'act-' || n, CASE WHEN n > %s THEN now() + interval '1 hour' + n * interval '1 second' "
            "WHEN mod(n, 2) = 0 THEN NULL ELSE now() - interval '1 minute' END, 0 "
            "FROM generate_series(1, %s) n",
            [INTEGRATION_ID, due, active],
        )
        cursor.execute("ANALYZE product_orders")


def assert_scans_the_due_index(plan):
    nodes = list(plan_nodes(plan[0]["Plan"]))
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"]
    scans = [n for n in nodes if n.get("Index Name") == "product_orders_monitor_due_idx"]
    assert scans, json.dumps(plan, indent=1)
    # The due condition bounds the scan inside the index (an Index Cond, not a Filter): the
    # orders due later are never read, however many are active.
    assert "COALESCE(next_check_at, '1970-01-01 00:00:00+00'::timestamp with time zone) <=" in scans[0]["Index Cond"]


@pytest.mark.postgres
@pytest.mark.parametrize("due", [0, 300])
def test_the_claim_scan_stops_at_the_first_order_not_yet_due(due):
    load_orders(final=100_000, active=5_000, due=due)

    assert_scans_the_due_index(claim_query_plan())
    assert len(claim(100)) == min(due, 100)


TENANT = uuid.UUID("0f6d1f9e-3b7a-4c2e-9d5a-7e8f9a0b1c2d")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("order_filter", "claimed"),
    [(OrderFilter(tenant_id=TENANT), 12), (OrderFilter(integration_id=uuid.UUID(INTEGRATION_ID)), 100)],
    ids=["tenant", "provider"],
)
def test_a_filtered_claim_still_stops_at_the_first_order_not_yet_due(order_filter, claimed):
    load_orders(final=100_000, active=5_000, due=300)
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE product_orders SET "tenantId" = %s WHERE provider_referans = ANY(%s)',
            [TENANT, [f"act-{n}" for n in range(1, 13)]],
        )

    assert_scans_the_due_index(claim_query_plan(order_filter=order_filter))
    assert len(claim(100, order_filter)) == claimed


@pytest.mark.parametrize("external_status", ["pending", "sent", "processing", "wait", "unknown"])
def test_orders_still_at_the_provider_are_claimed_whatever_the_platform_wrote(external_status):
    """The platform writes "wait" from a provider's answer and "unknown" after an error line,
    while the order is still at the provider."""
    order = create_sent_order(external_status=external_status)
    assert [o.pk for o in claim_due_orders(timezone.now(), 10, timezone.now() + timedelta(minutes=5)).orders] == [
        order.pk
    ]


@pytest.mark.parametrize(
    "external_status", ["not_sent", "queued", "done", "completed", "failed", "forwarded", "manual_required"]
)
def test_orders_not_at_the_provider_or_final_are_never_claimed(external_status):
    create_sent_order(external_status=external_status)
    assert claim_due_orders(timezone.now(), 10, timezone.now() + timedelta(minutes=5)).orders == []


def test_a_held_order_is_never_claimed():
    create_sent_order(hold_reason='the order has no "userId"')
    assert claim_due_orders(timezone.now(), 10, timezone.now() + timedelta(minutes=5)).orders == []


# -- the lease's bound ----------------------------------------------------------------------

LONGEST_RUN = 3600  # MONITOR_MAX_SECONDS' range
LONGEST_MARGIN = 1800  # MONITOR_LEASE_MARGIN_SECONDS' range


@given(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_a_lease_ends_within_the_longest_run_plus_the_margin_whatever_the_inputs(max_seconds, margin):
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)

    lease = lease_end(now, max_seconds, margin)

    assert timedelta(0) <= lease - now <= timedelta(seconds=LONGEST_RUN + LONGEST_MARGIN)
    assert lease - now >= timedelta(seconds=run_seconds(max_seconds))
    assert 0 < run_seconds(max_seconds) <= LONGEST_RUN


@pytest.mark.parametrize("max_seconds", [float("inf"), 1e309, 1e12, 99999999999, float("nan"), -5])
def test_a_run_given_any_length_leases_no_further_than_its_bounded_deadline_plus_the_margin(
    make_order, settings, max_seconds
):
    settings.MONITOR_LEASE_MARGIN_SECONDS = 120
    first, second = make_order(), make_order()
    leases = []

    def lease_of_the_other(order, outcome, result):
        # The other order is still leased while this answer is stored (one writer, one at a time).
        leases.extend(
            Order.objects.exclude(pk=order.pk)
            .filter(pk__in=[first.pk, second.pk])
            .values_list("next_check_at", flat=True)
        )

    started = timezone.now()
    report = check_due_orders(RunConfig.from_settings(2, max_seconds), on_checked=lease_of_the_other)

    assert report.checked == 2
    deadline = started + timedelta(seconds=run_seconds(max_seconds))
    assert deadline + timedelta(seconds=120) <= leases[0] <= timezone.now() + timedelta(seconds=LONGEST_RUN + 120)
