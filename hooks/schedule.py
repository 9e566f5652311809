"""The check schedule of an integration whose webhooks arrive: a safety net.

While events come (the integration's webhook enabled, its last valid event less than
PUSHED_SECONDS ago), an event makes its order due when the status changes, so the schedule only
has to catch a lost event. Its checks come every STEP_SECONDS up to NET_UNTIL_SECONDS after
sending, then the usual tail (x1.5, at most MONITOR_BACKOFF_CAP_SECONDS apart). The step stays
under the lease margin so that an event can always tell the order is not leased and move it
(hooks.leases); with a margin too small for a useful step, the learned schedule stays.

Which integrations are pushed is read with one query at most once every REFRESH_SECONDS per
process, like the learned schedules (orders.schedule_book); a failed read keeps the last answer.
"""

import logging
import threading
import time
import uuid
from datetime import timedelta

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from hooks.leases import lease_margin
from hooks.models import WebhookSetting

log = logging.getLogger(__name__)

PUSHED_SECONDS = 3600.0
REFRESH_SECONDS = 30.0
STEP_SECONDS = 100.0
NET_UNTIL_SECONDS = 600.0
# The step as a share of the lease margin at most, and the smallest step worth a safety net.
_STEP_SHARE_OF_MARGIN = 0.9
_SMALLEST_STEP_SECONDS = 10.0


def safety_net() -> tuple[float, ...] | None:
    """The safety-net offsets (seconds after sending), None when the lease margin is too small."""
    step = min(STEP_SECONDS, _STEP_SHARE_OF_MARGIN * lease_margin().total_seconds())
    if step < _SMALLEST_STEP_SECONDS:
        return None
    count = int(NET_UNTIL_SECONDS // step)
    return tuple(step * n for n in range(1, count + 1))


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

    def forget(self) -> None:
        with self._lock:
            self._keys, self._read_at = frozenset(), None

    def _refresh_if_due(self) -> None:
        if self._read_at is not None and time.monotonic() - self._read_at < self._refresh:
            return
        self._read_at = time.monotonic()
        since = timezone.now() - timedelta(seconds=PUSHED_SECONDS)
        rows = WebhookSetting.objects.filter(enabled=True, last_event_at__gte=since).exclude(secret="")
        try:
            if connection.in_atomic_block:
                with transaction.atomic():  # a savepoint: a failed read must not abort the caller's work
                    ids = list(rows.values_list("integration_id", flat=True))
            else:
                ids = list(rows.values_list("integration_id", flat=True))
        except DatabaseError as exc:
            log.warning("webhook integrations not refreshed (keeping the last answer): %s", str(exc).splitlines()[0])
            return
        self._keys = frozenset(str(integration_id) for integration_id in ids)


PUSHED = PushedIntegrations()


def while_pushed(integration_id: str | None, learned: tuple[float, ...]) -> tuple[float, ...]:
    """The safety net for a pushed integration's orders, else `learned`."""
    if integration_id is None or integration_id not in PUSHED:
        return learned
    return safety_net() or learned


def _key(integration_id: object) -> str | None:
    try:
        return str(uuid.UUID(str(integration_id).strip()))
    except ValueError:
        return None
