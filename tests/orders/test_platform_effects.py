"""A final status carries the platform's money effects (platform.md, section 3): a rejection
refunds the customer on `users` and `dj_users` with a ledger row, an approval freezes the
exchange rates the reports sum; both exactly once, and never without a payer."""

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections

from health.report import build_report
from health.stuck import StuckLimits
from orders.models import ExternalStatus, Order, PlatformStatus
from orders.outcomes import Outcome
from orders.platform_tables import Currency, Customer, LedgerUser, Tenant, WalletTransaction
from orders.transitions import apply_check_result
from providers.base import CheckResult, CheckState
from schedules.rules import CheckRules

pytestmark = pytest.mark.django_db(transaction=True)

# 22:30 UTC is 01:30 the next day in Istanbul: the reports count the approval on that date.
NOW = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
SENT = NOW - timedelta(minutes=10)
COMPLETED = CheckResult(CheckState.COMPLETED, pin="AB12-CD34-EF56-GH78", message="İşlem başarılı")
FAILED = CheckResult(CheckState.FAILED, message="Stok yok")


@pytest.fixture
def shop():
    return Tenant.objects.create(name="Shop", code="shop")


@pytest.fixture
def customer(shop):
    return Customer.objects.create(tenant_id=shop.pk, email="Ali@Example.com", username="ali", balance=Decimal("40.00"))


@pytest.fixture
def ledger_user(shop):
    # Matched to the customer by email, whatever its case.
    return LedgerUser.objects.create(
        tenant_id=shop.pk, username="ali-dj", email="ali@example.com", balance=Decimal("40.000000"), currency="TRY"
    )


def paid_order(customer, **fields) -> Order:
    """A sent order of `customer`, priced 12.345 TRY (stored 12.35), 10 USD, with its charging
    ledger row as the platform writes it when the order is created."""
    values = {
        "tenant_id": customer.tenant_id,
        "user_id": customer.pk,
        "external_status": ExternalStatus.SENT,
        "integration_id": "znet-1",
        "provider_referans": uuid.uuid4().hex,
        "sent_at": SENT,
        "created_at": SENT,
        "sell_price_currency": "TRY",
        "sell_price_amount": Decimal("12.35"),
        "price": Decimal("10.00"),
        "cost_currency": "TRY",
        "cost_amount": Decimal("250.00"),
        "notes": [{"by": "admin", "text": "created", "at": SENT.isoformat()}],
        "notes_count": 1,
    }
    order = Order.objects.create(**(values | fields))
    ledger = LedgerUser.objects.filter(tenant_id=customer.tenant_id).order_by("id").first()
    if ledger is not None:
        WalletTransaction.objects.create(
            user=ledger,
            transaction_type="approved",
            amount=Decimal("-12.35"),
            currency=ledger.currency,
            balance_before=Decimal("52.35"),
            balance_after=Decimal("40.00"),
            description="order",
            order_id=order.pk,
            created_at=SENT,
            metadata={"order_status": "pending"},
        )
    return order


def finalize(order, result, now=NOW):
    with time_machine.travel(now, tick=False):
        return apply_check_result(order, result, now, rules=CheckRules.from_settings())


def test_a_failed_order_is_rejected_and_refunded_on_users_and_dj_users(customer, ledger_user):
    order = paid_order(customer)

    assert finalize(order, FAILED) == Outcome.FAILED

    order.refresh_from_db()
    assert (order.status, order.external_status) == (PlatformStatus.REJECTED, ExternalStatus.FAILED)
    assert (order.completed_at, order.last_sync_at, order.duration_ms) == (NOW, NOW, 600_000)
    assert order.provider_message == "Stok yok"
    assert order.notes_count == 2 == len(order.notes)
    assert order.notes[-1]["by"] == "system" and "Stok yok" in order.notes[-1]["text"]
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("52.35")
    assert LedgerUser.objects.get(pk=ledger_user.pk).balance == Decimal("52.35")
    refund = WalletTransaction.objects.get(order_id=order.pk, transaction_type="rejected")
    assert (refund.user_id, refund.amount, refund.currency) == (ledger_user.pk, Decimal("12.35"), "TRY")
    assert (refund.balance_before, refund.balance_after) == (Decimal("40.00"), Decimal("52.35"))
    assert refund.metadata["order_status"] == "rejected" and refund.metadata["previous_status"] == "pending"
    charge = WalletTransaction.objects.get(order_id=order.pk, transaction_type="approved")
    assert charge.metadata["order_status"] == "rejected" and charge.metadata["rejected_at"] == NOW.isoformat()


def test_the_refund_is_rounded_half_up_to_the_cent_and_may_be_zero(customer, ledger_user):
    free = paid_order(customer, sell_price_amount=Decimal("0"))
    finalize(free, FAILED)
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("40.00")
    assert WalletTransaction.objects.get(order_id=free.pk, transaction_type="rejected").amount == 0


def test_a_customer_without_a_dj_users_account_is_refunded_on_users_alone(customer):
    order = paid_order(customer)
    finalize(order, FAILED)
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("52.35")
    assert not WalletTransaction.objects.filter(order_id=order.pk).exists()


def test_the_dj_users_account_is_matched_by_username_too_lowest_id_first(shop, customer):
    other_shop = Tenant.objects.create(name="Other", code="other")
    LedgerUser.objects.create(tenant_id=other_shop.pk, username="ALI-x", email="ali@example.com")  # other tenant
    first = LedgerUser.objects.create(tenant_id=shop.pk, username="ALI", email="someone@else.com")
    LedgerUser.objects.create(tenant_id=shop.pk, username="ali2", email="ALI@example.com")
    order = paid_order(customer)
    finalize(order, FAILED)
    assert WalletTransaction.objects.get(order_id=order.pk, transaction_type="rejected").user_id == first.pk
    assert LedgerUser.objects.get(pk=first.pk).balance == Decimal("12.35")


def test_an_order_is_refunded_once_however_often_it_is_finalized(customer, ledger_user):
    order = paid_order(customer)
    assert finalize(order, FAILED) == Outcome.FAILED
    assert finalize(order, FAILED) == Outcome.SKIPPED  # final: never changed again
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("52.35")
    assert WalletTransaction.objects.filter(order_id=order.pk, transaction_type="rejected").count() == 1


def test_an_order_the_platform_already_rejected_is_never_refunded_again(customer, ledger_user):
    order = paid_order(customer, status=PlatformStatus.REJECTED)
    assert finalize(order, FAILED) == Outcome.FAILED
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.FAILED and order.notes_count == 1
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("40.00")
    assert not WalletTransaction.objects.filter(order_id=order.pk, transaction_type="rejected").exists()


def test_an_approved_order_gets_its_pin_the_approval_dates_and_the_rates_of_the_day(shop, customer):
    Currency.objects.create(tenant_id=shop.pk, code="TRY", rate=Decimal("32.500000"))
    Currency.objects.create(tenant_id=shop.pk, code="TRY", rate=Decimal("99"), is_active=False)
    order = paid_order(customer)

    assert finalize(order, COMPLETED) == Outcome.COMPLETED

    order.refresh_from_db()
    assert (order.status, order.external_status, order.pin_code) == ("approved", "done", COMPLETED.pin)
    assert (order.completed_at, order.last_sync_at, order.duration_ms) == (NOW, NOW, 600_000)
    assert order.fx_usd_try_at_approval == Decimal("32.5")
    assert order.sell_try_at_approval == Decimal("325.00")  # price 10 USD x 32.5
    assert order.cost_try_at_approval == Decimal("250.00")  # the provider's cost, in TRY as it is
    assert order.profit_try_at_approval == Decimal("75.00")
    assert order.profit_usd_at_approval == Decimal("2.31")  # 75 / 32.5, half up
    assert (order.approved_at, order.fx_captured_at, order.fx_locked) == (NOW, NOW, True)
    assert (order.approved_local_date, order.approved_local_month) == (date(2026, 4, 1), "2026-04")
    assert order.notes_count == 2 and order.notes[-1]["by"] == "system"
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("40.00")  # paid when created


@pytest.mark.parametrize(
    ("cost_currency", "cost_amount", "cost_try"),
    [("USD", "4.00", "130.00"), ("EUR", "3.00", "105.00"), ("TRY", "0", "0.00")],
)
def test_the_cost_is_converted_to_try_from_the_orders_own_currency(
    shop, customer, cost_currency, cost_amount, cost_try
):
    Currency.objects.create(tenant_id=shop.pk, code="TRY", rate=Decimal("32.5"))
    Currency.objects.create(tenant_id=shop.pk, code="EUR", rate=Decimal("0.928571"))
    order = paid_order(customer, cost_currency=cost_currency, cost_amount=Decimal(cost_amount))
    finalize(order, COMPLETED)
    order.refresh_from_db()
    assert order.cost_try_at_approval == Decimal(cost_try)


def test_without_a_try_rate_the_rate_is_one(customer):
    order = paid_order(customer, cost_amount=Decimal("4.00"), cost_currency="USD")
    finalize(order, COMPLETED)
    order.refresh_from_db()
    assert (order.fx_usd_try_at_approval, order.sell_try_at_approval, order.cost_try_at_approval) == (1, 10, 4)


def test_rates_already_locked_are_not_frozen_again(customer):
    order = paid_order(customer, fx_locked=True, sell_try_at_approval=Decimal("1.00"))
    finalize(order, COMPLETED)
    order.refresh_from_db()
    assert (order.status, order.sell_try_at_approval, order.approved_at) == ("approved", Decimal("1.00"), None)


@pytest.mark.parametrize("result", [COMPLETED, FAILED], ids=["completed", "failed"])
@pytest.mark.parametrize("payer", ["no userId", "no such user", "a user of another tenant"])
def test_an_order_nobody_can_pay_for_is_held_for_an_operator(shop, customer, ledger_user, result, payer):
    other = Tenant.objects.create(name="Other", code="other")
    user_id = {"no userId": None, "no such user": uuid.uuid4(), "a user of another tenant": customer.pk}[payer]
    tenant_id = other.pk if payer == "a user of another tenant" else shop.pk
    order = paid_order(customer, user_id=user_id, tenant_id=tenant_id)

    assert finalize(order, result) == Outcome.HELD

    order.refresh_from_db()
    assert (order.status, order.external_status) == ("pending", "sent")  # never final without its money
    assert order.hold_reason and order.hold_reason == order.last_check_error
    assert order.pin_code is None
    assert order.pin_code_full == result.pin
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("40.00")
    assert not WalletTransaction.objects.filter(order_id=order.pk, transaction_type="rejected").exists()
    assert not Order.objects.due(NOW + timedelta(days=1)).filter(pk=order.pk).exists()  # never claimed again
    report = build_report(StuckLimits.from_settings(), NOW)
    assert [row["order_id"] for row in report.held_orders] == [str(order.pk)]
    assert any("held for an operator" in problem for problem in report.problems)


def test_a_delivered_order_the_platform_already_refunded_is_held_not_approved(customer, ledger_user):
    order = paid_order(customer, status=PlatformStatus.REJECTED)
    assert finalize(order, COMPLETED) == Outcome.HELD
    order.refresh_from_db()
    assert order.status == "rejected" and "already rejected" in order.hold_reason
    assert order.pin_code_full == COMPLETED.pin


@pytest.mark.postgres
def test_two_processes_finalizing_one_order_refund_it_once(customer, ledger_user):
    """A loop and the admin's "Check now" (or two hosts) store the same failed answer at once:
    the order's row lock makes the second find it final."""
    order = paid_order(customer)
    start = threading.Barrier(4)
    outcomes = []

    def store():
        start.wait()
        try:
            outcomes.append(finalize(Order.objects.get(pk=order.pk), FAILED))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == sorted([Outcome.FAILED] + [Outcome.SKIPPED] * 3)
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("52.35")
    assert LedgerUser.objects.get(pk=ledger_user.pk).balance == Decimal("52.35")
    assert WalletTransaction.objects.filter(order_id=order.pk, transaction_type="rejected").count() == 1
    assert connection.vendor == "postgresql"
