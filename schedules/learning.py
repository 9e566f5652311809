"""Check schedules learned from an integration's completion times.

`learn_schedule` chooses the offsets (seconds after "sentAt", see schedules.offsets) from an
integration's own recent completion times ("completedAt" - "sentAt"). An order is checked until
a check finds it complete, so a budget of status requests per order (a mean over orders) can buy
dense checks where most orders finish and few where few are still open.

Pure functions: no database, no settings. The caller passes MONITOR_BACKOFF_CAP_SECONDS and the
budget in.
"""

import math
from collections.abc import Sequence

from schedules.candidates import Candidates
from schedules.offsets import HORIZON_SECONDS, check_cap, default_schedule

MIN_SAMPLES = 50
# The learner minimises a weighted mean delay: an order's delay counts 1 / (1 + completion /
# this many seconds). A minute more matters to the customer whose PIN took 20 s, hardly to the
# one whose PIN took an hour. With the plain mean delay (math.inf here) the few slow orders,
# minutes late whatever is done, take most of the budget from the many fast ones; see
# docs/PERFORMANCE.md, "PIN latency".
DELAY_WEIGHT_SECONDS = 60.0
# The budget is met on the samples with this many standard errors to spare, so that the next
# week's orders, drawn from the same distribution, stay within it too.
BUDGET_SAFETY_ERRORS = 2.0


def learn_schedule(
    samples: Sequence[float],
    budget: float,
    cap: float,
    min_samples: int = MIN_SAMPLES,
    delay_weight_seconds: float = DELAY_WEIGHT_SECONDS,
    safety_errors: float = BUDGET_SAFETY_ERRORS,
) -> list[float]:
    """Check offsets for orders whose completion times (seconds after sending) look like
    `samples`: the weighted mean delay over the samples (see DELAY_WEIGHT_SECONDS; math.inf for
    the plain mean) is as small as it can be while the mean number of status requests per order
    over the same samples stays within `budget`, less `safety_errors` standard errors for
    sampling error (BUDGET_SAFETY_ERRORS; 0: the samples' own mean meets the budget). Every gap
    is at most `cap`; the last offset catches the slowest sample. Samples that are not finite
    are ignored; negative ones count as 0.

    With fewer than `min_samples` samples: `default_schedule(cap)`. When the budget cannot be
    met (the cap alone needs one check per `cap` seconds up to the slowest sample): the
    schedule with the fewest requests."""
    check_cap(cap)
    if not budget >= 1:
        raise ValueError("the budget must be at least one request per order")
    if not delay_weight_seconds > 0:
        raise ValueError("delay_weight_seconds must be positive")
    completions = sorted(min(max(float(sample), 0.0), HORIZON_SECONDS) for sample in samples if math.isfinite(sample))
    if len(completions) < min_samples:
        return default_schedule(cap)
    candidates = Candidates(completions, cap, delay_weight_seconds)
    plan = candidates.best_within(budget)
    margin = safety_errors * candidates.requests_standard_error(plan)
    if plan.requests + margin > budget:
        plan = candidates.best_within(budget - margin)
    return plan.offsets
