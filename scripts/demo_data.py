"""Demo helper: `seed` creates a znet integration at the sandbox and orders dispatched through
orders.dispatch; `active` prints how many orders are still active; `report` shows the result."""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402

from orders.dispatch import dispatch_order  # noqa: E402
from orders.models import Order  # noqa: E402
from providers.base import PlaceRequest  # noqa: E402
from providers.models import Integration  # noqa: E402
from providers.redaction import mask_pin  # noqa: E402


def seed(base_url, count, kod, sifre):
    integration = Integration.objects.create(
        name="znet (demo sandbox)", provider="znet", base_url=base_url, kod=kod, sifre=sifre
    )
    statuses = Count("pk")
    for number in range(count):
        order = Order.objects.create(external_status="not_sent", integration_id=str(integration.pk))
        request = PlaceRequest(product="101", denomination="60", player_id=f"55500{number:05d}")
        dispatch_order(order.pk, request)
    summary = Order.objects.values("external_status").annotate(n=statuses).order_by("external_status")
    print("dispatched:", ", ".join(f"{row['external_status']}={row['n']}" for row in summary))


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
