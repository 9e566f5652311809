"""How long to wait before the next check of an unfinished order: after a failed check, the
exponential backoff; after a "still processing" answer, the integration's check schedule."""

import random
from datetime import timedelta

from schedules.offsets import KeptGaps, next_check_offset, widest_gap
from schedules.rules import CheckRules


def backoff_seconds(attempt, rules: CheckRules, rng=random):
    """Delay after the `attempt`-th consecutive failed check (1, 2, ...): base x 2^(attempt-1),
    capped, then spread by +-jitter so orders sent together do not all come due in the same second."""
    exponent = max(attempt, 1) - 1
    # min() before the power keeps huge attempt counts from overflowing.
    delay = min(rules.backoff_cap_seconds, rules.backoff_base_seconds * 2 ** min(exponent, 64))
    return delay * (1 + rng.uniform(-rules.backoff_jitter, rules.backoff_jitter))


def next_check_time(now, attempt, rules: CheckRules, permanent=False):
    """When an order checked `now` without finishing is due again. Permanent failures wait the
    maximum so that a broken integration is not hammered."""
    seconds = backoff_seconds(attempt, rules)
    if permanent:
        seconds = max(seconds, rules.backoff_cap_seconds)
    return now + timedelta(seconds=seconds)


def scheduled_check_time(sent_at, now, schedule, rules: CheckRules):
    """When an order sent at `sent_at` (its "sentAt", else "createdAt") and found still
    processing `now` is due again: the next offset of its integration's check schedule
    (schedules.offsets, seconds after sending) after now, never more than the backoff cap after
    now (a KeptGaps schedule: its own widest gap if wider)."""
    cap = rules.backoff_cap_seconds
    if isinstance(schedule, KeptGaps):
        cap = max(cap, widest_gap(schedule))
    elapsed = (now - sent_at).total_seconds()
    due = sent_at + timedelta(seconds=next_check_offset(schedule, elapsed, cap))
    # A "sentAt" in the future (another host's clock) must not push the check past the cap.
    return min(due, now + timedelta(seconds=cap))
