"""Demo helper: `seed` creates a shop with a TRY rate, a customer who pays for each order when it
is created (as the platform does: the balance drops and a ledger row records the charge), a znet
integration at the sandbox and orders dispatched through dispatch.placing; `add-internal` creates
an `internal` integration with its webhook secret (DEMO_WEBHOOK_SECRET) and prints its id, and
`seed-internal` dispatches that customer's orders to it; `active` prints how many orders are
still active; `report` shows the result: the customer's balance (rejected orders refunded), the
rates frozen on an approved order and, with --internal-url, what the internal orders' events
did (from the internal sandbox's records)."""

import argparse
import os
import sys
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from dispatch.placing import dispatch_order  # noqa: E402
from hooks.models import WebhookSetting  # noqa: E402
from orders.models import Order  # noqa: E402
from orders.platform_tables import Currency, Customer, LedgerUser, Tenant, WalletTransaction  # noqa: E402
from providers.base import PlaceRequest  # noqa: E402
from providers.models import Integration  # noqa: E402
from providers.redaction import mask_pin  # noqa: E402

OPENING_BALANCE = Decimal("5000.00")
PRICE_TRY = Decimal("120.00")  # what the customer pays, in TRY
PRICE_USD = Decimal("3.70")
CUSTOMER_EMAIL = "demo.customer@example.com"
INTERNAL_TOKEN = "demo-tenant-token"  # the internal sandbox's default api-token


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
    for number in range(count):
        request = PlaceRequest(product="101", denomination="60", player_id=f"55500{number:05d}")
        place(integration, customer, account, request)
    print_dispatched(integration)


def add_internal(base_url):
    """The internal integration and its webhook: events signed with DEMO_WEBHOOK_SECRET."""
    integration = Integration.objects.create(
        name="internal (demo tenant)", provider="internal", base_url=base_url, api_token=INTERNAL_TOKEN
    )
    # A recent event, as on an integration whose events arrive: its orders follow the safety net.
    WebhookSetting.objects.create(
        integration_id=integration.pk, secret=os.environ["DEMO_WEBHOOK_SECRET"], last_event_at=timezone.now()
    )
    print(integration.pk)


def seed_internal(count):
    integration = Integration.objects.get(provider="internal")
    customer = Customer.objects.get(email=CUSTOMER_EMAIL)
    account = LedgerUser.objects.get(email=CUSTOMER_EMAIL)
    for number in range(count):
        place(integration, customer, account, PlaceRequest(product="12", player_id=f"77700{number:05d}"))
    print_dispatched(integration)


def place(integration, customer, account, request):
    """One order of the customer, charged, then dispatched to `integration`."""
    order = Order.objects.create(
        external_status="not_sent",
        integration_id=str(integration.pk),
        tenant_id=customer.tenant_id,
        user_id=customer.pk,
        sell_price_currency="TRY",
        sell_price_amount=PRICE_TRY,
        price=PRICE_USD,
    )
    charge(customer, account, order)
    dispatch_order(order.pk, request)


def print_dispatched(integration):
    orders = Order.objects.filter(integration_id=str(integration.pk))
    summary = orders.values("external_status").annotate(n=Count("pk")).order_by("external_status")
    counts = ", ".join(f"{row['external_status']}={row['n']}" for row in summary)
    print(f"dispatched to {integration.provider}: {counts}")


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


def report(internal_url=None):
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
    if internal_url:
        internal_events(internal_url)


def money():
    customer = Customer.objects.get(email=CUSTOMER_EMAIL)
    orders = Order.objects.filter(user_id=customer.pk)
    rejected = orders.filter(status="rejected").count()
    refunds = WalletTransaction.objects.filter(transaction_type="rejected").count()
    providers = {str(pk): provider for pk, provider in Integration.objects.values_list("pk", "provider")}
    per_integration = orders.values("integration_id").annotate(n=Count("pk")).order_by("integration_id")
    families = ", ".join(sorted(f"{row['n']} {providers.get(row['integration_id'], '?')}" for row in per_integration))
    print(
        f"customer balance: {OPENING_BALANCE} - {orders.count()} orders ({families}) x {PRICE_TRY} TRY"
        f" + {rejected} rejected orders refunded ({refunds} refund rows) = {customer.balance} TRY"
        f" (dj_users: {LedgerUser.objects.get(email=CUSTOMER_EMAIL).balance:.2f})"
    )
    # A znet order: its place answer carries the dealer cost (the internal sandbox's none).
    znet_ids = [pk for pk, provider in providers.items() if provider == "znet"]
    approved = orders.filter(status="approved", integration_id__in=znet_ids).order_by("approved_at").first()
    if approved is not None:
        print(
            f"an approved order, rates frozen: fxUsdTryAtApproval={approved.fx_usd_try_at_approval.normalize()} "
            f"sellTryAtApproval={approved.sell_try_at_approval} costTryAtApproval={approved.cost_try_at_approval} "
            f"profitTryAtApproval={approved.profit_try_at_approval} "
            f"profitUsdAtApproval={approved.profit_usd_at_approval} "
            f"approvedLocalDate={approved.approved_local_date} fxLocked={approved.fx_locked}"
        )


def internal_events(internal_url):
    """The internal orders final after their event: the check that found them final came after
    the event's delivery (accepted: HTTP 200), and the status requests they took."""
    deliveries = sandbox_record(internal_url, "webhooks")
    checks = [entry for entry in sandbox_record(internal_url, "log") if entry["path"] == "check"]
    internal = Order.objects.filter(integration_id__in=internal_ids(), external_status__in=["done", "failed"])
    final = dict(internal.values_list("pk", "external_status"))
    after_event, asked = {"done": 0, "failed": 0}, 0
    for delivery in (d for d in deliveries if d["answer"] == 200):
        names = (delivery["order_id"], delivery["order_uuid"])
        times = [entry["at"] for entry in checks if entry.get("orders") in names]
        asked += len(times)
        status = final.get(uuid.UUID(delivery["order_uuid"]))
        if status is not None and times and max(times) >= delivery["sent_at"]:
            after_event[status] += 1
    accepted = sum(d["answer"] == 200 for d in deliveries)
    print(
        f"internal orders (webhooks): {after_event['done']} completed and {after_event['failed']} rejected after "
        f"their signed event ({len(deliveries)} events posted, {accepted} accepted), {asked} status requests for them"
    )


def sandbox_record(base_url, name):
    return requests.get(f"{base_url}/_sandbox/{name}", timeout=10).json()


def internal_ids():
    return [str(pk) for pk in Integration.objects.filter(provider="internal").values_list("pk", flat=True)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["seed", "add-internal", "seed-internal", "active", "report"])
    parser.add_argument("--base-url")
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--kod", default="demo-bayi")
    parser.add_argument("--sifre", default="demo-sifre")
    parser.add_argument("--internal-url", help="report: the internal sandbox, to read its events and requests")
    args = parser.parse_args()
    if args.action == "seed":
        seed(args.base_url, args.orders, args.kod, args.sifre)
    elif args.action == "add-internal":
        add_internal(args.base_url)
    elif args.action == "seed-internal":
        seed_internal(args.orders)
    elif args.action == "active":
        active()
    else:
        report(args.internal_url)
