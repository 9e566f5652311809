"""Which orders an event may make due now without touching a run's lease.

A claim moves an order's next_check_at to its lease end: the claim time plus the run's length
plus MONITOR_LEASE_MARGIN_SECONDS, and the run's store of a result is conditional on that
value. Making a leased order due now would let a second run claim it while the first still
checks it (two status requests, and the first run's result dropped). product_orders has no
column saying "leased", but a lease can be ruled out: a claim comes after the order's last
check was stored (`lastSyncAt`) and after it was sent, so a lease ends more than the margin
after both. An order whose next check is less than the margin after the later of those was
scheduled by a check or by its placing, not leased:

    COALESCE("lastSyncAt", "sentAt", "createdAt") > next_check_at - margin

This holds while every process runs with the same MONITOR_LEASE_MARGIN_SECONDS (a run with a
smaller margin could hold a lease the rule takes for a schedule). An order whose next check is
further from its last check than the margin may be leased: an event leaves it to that check.
The webhooks' safety-net schedule (hooks.schedule) keeps the gaps under the margin while most
orders complete, so their events can always move them.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from config.env import range_of


def lease_margin() -> timedelta:
    """The margin every lease ends past its run's deadline (as orders.claiming.lease_end)."""
    return timedelta(seconds=range_of("MONITOR_LEASE_MARGIN_SECONDS").clamp(settings.MONITOR_LEASE_MARGIN_SECONDS))


def surely_not_leased(now: datetime) -> Q:
    """Orders with a next check still ahead that no run can hold a lease on (see above).
    Needs the alias `last_known` (`with_last_known`)."""
    return Q(next_check_at__gt=now, last_known__gt=F("next_check_at") - lease_margin())


def with_last_known(orders):
    return orders.alias(last_known=Coalesce("last_sync_at", "sent_at", "created_at"))
