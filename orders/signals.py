"""Signals the host application can connect to.

order_finalized is sent once per order, after the transaction that made it final has committed
(never for a change that rolled back), with:
  sender  = Order
  order   = the Order as stored
  outcome = "completed", "failed" or "timed_out"

The money has moved by then, in the same transaction as the status (orders.platform_effects):
a failed order is refunded, a completed one carries its frozen rates. A timed-out order is still
pending and not refunded: an operator decides. A receiver notifies; it never moves money.

Example receiver (in the host application's AppConfig.ready()):

    from django.dispatch import receiver
    from orders.signals import order_finalized

    @receiver(order_finalized)
    def tell_the_customer(sender, order, outcome, **kwargs):
        if outcome == "completed":
            notifications.pin_ready(order.id)
"""

import logging

from django.dispatch import Signal

log = logging.getLogger(__name__)

order_finalized = Signal()


def send_order_finalized(order, outcome):
    """Send order_finalized; a failing receiver of the host application is logged, and never
    stops the monitor."""
    for receiver, response in order_finalized.send_robust(sender=type(order), order=order, outcome=str(outcome)):
        if isinstance(response, Exception):
            log.error("order_finalized receiver %r failed for order %s: %r", receiver, order.pk, response)
