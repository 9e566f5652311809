"""When to ask a provider about an order: check schedules, in seconds after "sentAt".

A schedule is an increasing list of offsets (seconds after the order was sent). After its last
offset the checks go on with the gap growing x1.5 (each offset is 1.5 x the previous one), and
no two checks are ever more than `cap` seconds apart. Schedules are learned in
schedules.learning; this module follows them.

Pure functions: no database, no settings. The caller passes MONITOR_BACKOFF_CAP_SECONDS in.
"""

import math
from bisect import bisect_right
from collections.abc import Sequence

DEFAULT_OFFSETS: tuple[float, ...] = (10.0, 25.0, 45.0, 90.0, 150.0, 240.0, 360.0)
TAIL_GROWTH = 1.5
# No order is checked for longer than the 24 h rule allows; longer samples are clock trouble.
HORIZON_SECONDS = 24 * 3600.0


def default_schedule(cap: float) -> list[float]:
    """The schedule used while an integration has too few completed orders to learn from:
    10, 25, 45, 90, 150, 240, 360 s after sending, every gap shortened to `cap` if longer."""
    check_cap(cap)
    offsets: list[float] = []
    previous = 0.0
    for offset in DEFAULT_OFFSETS:
        previous = min(offset, previous + cap)
        offsets.append(previous)
    return offsets


def next_check_offset(schedule: Sequence[float], elapsed: float, cap: float) -> float:
    """The first check offset after `elapsed` seconds since sending, never more than `cap`
    seconds after `elapsed`. Offsets already passed (a late check) are skipped; past the end of
    the schedule each offset is 1.5 x the previous one, at most `cap` later."""
    check_cap(cap)
    if not schedule:
        raise ValueError("a schedule needs at least one check offset")
    index = bisect_right(schedule, elapsed)
    if index < len(schedule):
        return min(schedule[index], max(elapsed, 0.0) + cap)
    offset = schedule[-1]
    while offset <= elapsed:
        gap = min(cap, max(offset * (TAIL_GROWTH - 1), 1.0))
        if gap >= cap:
            # From here every gap is the cap: jump instead of stepping through a day of checks.
            jumped = offset + (math.floor((elapsed - offset) / cap) + 1) * cap
            return jumped if jumped > elapsed else jumped + cap  # (a rounding error can land on it)
        offset += gap
    return offset


class KeptGaps(tuple):
    """A schedule whose listed gaps are kept where they are wider than the cap: the webhooks'
    safety net (hooks.schedule), whose events bring the timing. Other schedules are held to the
    cap in use, also one lowered after they were learned."""


def widest_gap(schedule: Sequence[float]) -> float:
    """The longest wait between two listed checks (the first counted from sending)."""
    return max(later - earlier for earlier, later in zip((0.0, *schedule), schedule, strict=False))


def check_cap(cap: float) -> None:
    """Refuse a cap between two checks that is not positive."""
    if not cap > 0:
        raise ValueError("the cap between two checks must be positive")
