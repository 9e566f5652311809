"""How long to wait before the next check of an unfinished order."""

import random
from datetime import timedelta

from django.conf import settings


def backoff_seconds(attempt, base=None, cap=None, jitter=None, rng=random):
    """Delay after the `attempt`-th consecutive unfinished check (1, 2, ...):
    base x 2^(attempt-1), capped, then spread by +-jitter so orders sent together do not all
    come due in the same second."""
    base = settings.MONITOR_BACKOFF_BASE_SECONDS if base is None else base
    cap = settings.MONITOR_BACKOFF_CAP_SECONDS if cap is None else cap
    jitter = settings.MONITOR_BACKOFF_JITTER if jitter is None else jitter
    exponent = max(attempt, 1) - 1
    # min() before the power keeps huge attempt counts from overflowing.
    delay = min(cap, base * 2 ** min(exponent, 64))
    return delay * (1 + rng.uniform(-jitter, jitter))


def next_check_time(now, attempt, permanent=False):
    """When an order checked `now` without finishing is due again. Permanent failures wait the
    maximum so that a broken integration is not hammered."""
    seconds = backoff_seconds(attempt)
    if permanent:
        seconds = max(seconds, settings.MONITOR_BACKOFF_CAP_SECONDS)
    return now + timedelta(seconds=seconds)
