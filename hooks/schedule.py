"""The check schedule of an integration whose webhooks arrive: a safety net.

While events come (the integration's webhook enabled, its last valid event less than
PUSHED_SECONDS ago), an event makes its order due when the status changes, so the schedule only
has to catch a lost event: the platform retries a delivery for hours (0 s, 30 s, 2 min, 10 min,
1 h, 6 h), so an event that never arrives is rare. The net checks 5, 15 and 30 minutes and
1 hour after sending, then every hour until the 24 h limit fails the order. These gaps are wider
than MONITOR_BACKOFF_CAP_SECONDS on purpose: the cap exists to find a PIN soon without events,
and here the event brings the timing. On the reference mix that is about 1.16 status requests
per order (the event's check and 0.16 of net checks, all on the orders that take over 5
minutes); a lost event's PIN waits at most until the next net check. An event can move any
order no run holds (hooks.leases), however far ahead its next check is.

Which integrations are pushed is read with one query at most once every REFRESH_SECONDS per
process, like the learned schedules (schedules.book); a failed read keeps the last answer.
"""

import logging
import threading
import time
from datetime import timedelta

from django.db import DatabaseError
from django.utils import timezone

from hooks.models import WebhookSetting
from orders.connection_loss import first_line
from orders.queries import read_apart, uuid_or_none
from schedules.offsets import KeptGaps, widest_gap

log = logging.getLogger(__name__)

PUSHED_SECONDS = 3600.0
REFRESH_SECONDS = 30.0
HOUR = 3600.0
SAFETY_NET = KeptGaps((300.0, 900.0, 1800.0, *(HOUR * hours for hours in range(1, 25))))
# The widest gap between two of its checks (health.stuck allows for it).
WIDEST_GAP_SECONDS = widest_gap(SAFETY_NET)


class PushedIntegrations:
    """The integrations whose webhooks arrive, as integration keys (the id as a canonical uuid)."""

    def __init__(self, refresh_seconds: float = REFRESH_SECONDS):
        self._refresh = refresh_seconds
        self._keys: frozenset[str] = frozenset()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def __contains__(self, integration_id: object) -> bool:
        key = _key(integration_id)
        with self._lock:
            self._refresh_if_due()
            return key is not None and key in self._keys

    def keys(self) -> frozenset[str]:
        with self._lock:
            self._refresh_if_due()
            return self._keys

    def _refresh_if_due(self) -> None:
        if self._read_at is not None and time.monotonic() - self._read_at < self._refresh:
            return
        self._read_at = time.monotonic()
        since = timezone.now() - timedelta(seconds=PUSHED_SECONDS)
        rows = WebhookSetting.objects.filter(enabled=True, last_event_at__gte=since).exclude(secret="")
        try:
            with read_apart():
                ids = list(rows.values_list("integration_id", flat=True))
        except DatabaseError as exc:
            log.warning("webhook integrations not refreshed (keeping the last answer): %s", first_line(exc))
            return
        self._keys = frozenset(str(integration_id) for integration_id in ids)


PUSHED = PushedIntegrations()


def while_pushed(integration_id: str | None, learned: tuple[float, ...]) -> tuple[float, ...]:
    """The safety net for a pushed integration's orders, else `learned`."""
    if integration_id is None or integration_id not in PUSHED:
        return learned
    return SAFETY_NET


def _key(integration_id: object) -> str | None:
    value = uuid_or_none(str(integration_id).strip())
    return None if value is None else str(value)
