"""What a check schedule costs and gives over a set of completion times: every check offset,
the mean status requests per order and the delay from completion to the check that sees it.

Used by the benchmarks and the tests to judge schedules (schedules.learning); production never
needs them. Pure: no database, no settings.
"""

import math
from bisect import bisect_left
from collections.abc import Sequence

from schedules.offsets import next_check_offset


def check_offsets(schedule: Sequence[float], until: float, cap: float) -> list[float]:
    """Every check offset of `schedule` up to the first one at or after `until`, tail included."""
    offsets = [offset for offset in schedule if offset < until]
    offset = offsets[-1] if offsets else -math.inf
    while offset < until:
        offset = next_check_offset(schedule, offset, cap)
        offsets.append(offset)
    return offsets


def expected_requests(schedule: Sequence[float], samples: Sequence[float], cap: float) -> float:
    """Mean number of status requests per order: an order completing `c` seconds after sending
    is asked at every offset before `c` and once more at the first offset at or after `c`."""
    offsets = check_offsets(schedule, max(samples, default=0.0), cap)
    return _mean([bisect_left(offsets, completion) + 1 for completion in samples])


def expected_delay(schedule: Sequence[float], samples: Sequence[float], cap: float) -> float:
    """Mean seconds from completion to the first check offset at or after it."""
    return _mean(check_delays(schedule, samples, cap))


def check_delays(schedule: Sequence[float], samples: Sequence[float], cap: float) -> list[float]:
    """For each completion time, the seconds until the first check offset at or after it."""
    offsets = check_offsets(schedule, max(samples, default=0.0), cap)
    return [offsets[bisect_left(offsets, completion)] - completion for completion in samples]


def _mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("no samples")
    return math.fsum(values) / len(values)
