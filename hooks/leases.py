"""Which orders an event may make due now without touching a run's lease.

A claim moves an order's next_check_at to its lease end and writes the same time into
monitor_leased_until; the run's store of a result is conditional on next_check_at still
carrying it. Making a leased order due now would let a second run claim it while the first
still checks it (two status requests, and the first run's result dropped). Every store and
release writes another next_check_at, so an order is held exactly while next_check_at equals
monitor_leased_until and that time is still ahead; a run that died leaves a lease that simply
ends.
"""

from datetime import datetime

from django.db.models import F, Q


def held_by_a_run(now: datetime) -> Q:
    """Orders a run holds a lease on now."""
    return Q(monitor_leased_until__gt=now, next_check_at=F("monitor_leased_until"))


def movable_by_an_event(now: datetime) -> Q:
    """Orders with a next check still ahead that no run holds: an event may make them due now."""
    return Q(next_check_at__gt=now) & ~held_by_a_run(now)
