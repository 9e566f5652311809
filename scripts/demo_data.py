"""Demo helper: `seed` creates a shop with a TRY rate, a customer who pays for each order when it
is created (as the platform does: the balance drops and a ledger row records the charge), a znet
integration at the sandbox and orders dispatched through orders.dispatch; `active` prints how many
orders are still active; `report` shows the result: the customer's balance (rejected orders
refunded) and the rates frozen on an approved order."""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from orders.dispatch import dispatch_order  # noqa: E402
from orders.models import Order  # noqa: E402
from orders.platform_tables import Currency, Customer, LedgerUser, Tenant, WalletTransaction  # noqa: E402
from providers.base import PlaceRequest  # noqa: E402
from providers.models import Integration  # noqa: E402
from providers.redaction import mask_pin  # noqa: E402

OPENING_BALANCE = Decimal("5000.00")
PRICE_TRY = Decimal("120.00")  # what the customer pays, in TRY
PRICE_USD = Decimal("3.70")
CUSTOMER_EMAIL = "demo.customer@example.com"


def seed(base_url, count, kod, sifre):
    integration = Integration.objects.create(
        name="znet (demo sandbox)", provider="znet", base_url=base_url, kod=kod, sifre=sifre
    )
    shop = Tenant.objects.create(name="Demo shop", code="demo")
    Currency.objects.create(tenant_id=shop.pk, code="TRY", rate=Decimal("32.5"))
    customer = Customer.objects.create(tenant_id=shop.pk, email=CUSTOMER_EMAIL, balance=OPENING_BALANCE)
    account = LedgerUser.objects.create(
        tenant_id=shop.pk, username="demo", email=CUSTOMER_EMAIL, balance=OPENING_BALANCE, currency="TRY"
    )
    statuses = Count("pk")
    for number in range(count):
        order = Order.objects.create(
            external_status="not_sent",
            integration_id=str(integration.pk),
            tenant_id=shop.pk,
            user_id=customer.pk,
            sell_price_currency="TRY",
            sell_price_amount=PRICE_TRY,
            price=PRICE_USD,
        )
        charge(customer, account, order)
        request = PlaceRequest(product="101", denomination="60", player_id=f"55500{number:05d}")
        dispatch_order(order.pk, request)
    summary = Order.objects.values("external_status").annotate(n=statuses).order_by("external_status")
    print("dispatched:", ", ".join(f"{row['external_status']}={row['n']}" for row in summary))


def charge(customer, account, order):
    """What the platform does when an order is created: the price leaves both balances."""
    customer.balance -= PRICE_TRY
    customer.save(update_fields=["balance"])
    before = account.balance
    account.balance -= PRICE_TRY
    account.save(update_fields=["balance"])
    WalletTransaction.objects.create(
        user=account,
        transaction_type="approved",
        amount=-PRICE_TRY,
        currency="TRY",
        balance_before=before,
        balance_after=account.balance,
        description=f"order {order.pk}",
        order_id=order.pk,
        created_at=timezone.now(),
        metadata={"order_status": "pending"},
    )


def active():
    print(Order.objects.active().count())


def report():
    rows = Order.objects.values("external_status", "status").annotate(n=Count("pk")).order_by("external_status")
    print("orders by state:")
    for row in rows:
        print(f"  externalStatus={row['external_status']:<10} status={row['status']:<9} {row['n']}")
    print("a few orders:")
    for order in Order.objects.order_by("external_status", "-completed_at")[:6]:
        print(
            f"  {order.pk} {order.external_status:<10} pin={mask_pin(order.pin_code):<9} "
            f"attempts={order.check_attempts} message={order.provider_message or order.last_message or ''}"
        )
    money()


def money():
    customer = Customer.objects.get(email=CUSTOMER_EMAIL)
    orders = Order.objects.filter(user_id=customer.pk)
    rejected = orders.filter(status="rejected").count()
    refunds = WalletTransaction.objects.filter(transaction_type="rejected").count()
    print(
        f"customer balance: {OPENING_BALANCE} - {orders.count()} orders x {PRICE_TRY} TRY"
        f" + {rejected} rejected orders refunded ({refunds} refund rows) = {customer.balance} TRY"
        f" (dj_users: {LedgerUser.objects.get(email=CUSTOMER_EMAIL).balance:.2f})"
    )
    approved = orders.filter(status="approved").order_by("approved_at").first()
    if approved is not None:
        print(
            f"an approved order, rates frozen: fxUsdTryAtApproval={approved.fx_usd_try_at_approval.normalize()} "
            f"sellTryAtApproval={approved.sell_try_at_approval} costTryAtApproval={approved.cost_try_at_approval} "
            f"profitTryAtApproval={approved.profit_try_at_approval} "
            f"profitUsdAtApproval={approved.profit_usd_at_approval} "
            f"approvedLocalDate={approved.approved_local_date} fxLocked={approved.fx_locked}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["seed", "active", "report"])
    parser.add_argument("--base-url")
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--kod", default="demo-bayi")
    parser.add_argument("--sifre", default="demo-sifre")
    args = parser.parse_args()
    if args.action == "seed":
        seed(args.base_url, args.orders, args.kod, args.sifre)
    elif args.action == "active":
        active()
    else:
        report()
