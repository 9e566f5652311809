"""Steady state at a request budget, on a simulated clock: `make bench-steady` (see
docs/PERFORMANCE.md, "Steady state at the request budget").

Orders of the reference mix arrive at each of ARRIVAL_RATES (at random: exponential gaps) on one
integration whose budget is BUDGET_PER_SECOND requests a second. Its gate is a queue: a check
due starts at the first free start (one every 1/BUDGET_PER_SECOND s; the oldest due first), so
checks wait once the schedule asks for more than the budget serves. Each schedule comes from
the real code (schedules/learning.py, learned from a separate draw of 2,000 orders; the allowance
from budgets/allowance.py); each order's next check from `next_check_offset`, as in
bench/latency.py. Deterministic (fixed seeds), no database, no network, a few seconds.
"""

import heapq
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")

import django  # noqa: E402

django.setup()  # budgets.allowance reads no database here, but its module imports the models

from latency import ANSWER_SECONDS, CAP, PICKUP_SECONDS, TRAINING_ORDERS, percentile, seconds  # noqa: E402
from schedule_eval import expected_requests  # noqa: E402

from budgets.allowance import WINDOW_SECONDS, allowance  # noqa: E402
from sandbox.completion_delays import REFERENCE_MIX, draw  # noqa: E402
from schedules.learning import DELAY_WEIGHT_SECONDS, learn_schedule  # noqa: E402
from schedules.offsets import next_check_offset  # noqa: E402

# The 2 orders a second, and 3 for a heavier overload.
ARRIVAL_RATES = (2.0, 3.0)
BUDGET_PER_SECOND = 5.0
CHECK_BUDGET = 3.0  # MONITOR_CHECK_BUDGET's default
HOURS = 6.0  # orders arrive for this long ...
MEASURED_FROM, MEASURED_TO = 1.0, 3.0  # ... and those sent between these hours are measured
SEED = 17


@dataclass(frozen=True)
class Result:
    delays: list[float]  # per measured order: seconds from completion to the PIN stored
    requests: float  # status requests per measured order
    by_hour: dict[int, float]  # hour the order was sent: median delay
    busy: float  # share of the gate's starts used while orders arrive
    wait: float  # mean seconds a measured order's check waited for a free start
    weighted: float  # mean delay weighted as the learner weighs it (schedules.learning.DELAY_WEIGHT_SECONDS)


def simulate(schedule: list[float], arrivals: float, rng: random.Random) -> Result:
    """Every order of the run through the gate; the measured ones' delays and requests."""
    orders = _arrivals(arrivals, rng)
    delays, requests, waited, used = _through_the_gate(schedule, orders, rng)
    measured = [n for n, (sent, _) in enumerate(orders) if MEASURED_FROM * 3600 <= sent < MEASURED_TO * 3600]
    by_hour: dict[int, list[float]] = {}
    for number, (sent, _) in enumerate(orders[:-1]):  # the last one arrived past the run's end
        by_hour.setdefault(int(sent // 3600), []).append(delays[number])
    return Result(
        [delays[n] for n in measured],
        statistics.fmean(requests[n] for n in measured),
        {hour: statistics.median(values) for hour, values in sorted(by_hour.items())},
        used / (BUDGET_PER_SECOND * HOURS * 3600),
        statistics.fmean(waited[n] / requests[n] for n in measured),
        statistics.fmean(delays[n] / (1 + orders[n][1] / DELAY_WEIGHT_SECONDS) for n in measured),
    )


def _through_the_gate(
    schedule: list[float], orders: list[tuple[float, float]], rng: random.Random
) -> tuple[list[float], list[int], list[float], int]:
    """Per order: delay, requests, seconds its checks waited for a start; and the starts used
    while orders arrive. The due checks are a heap, the oldest due first."""
    gap = 1.0 / BUDGET_PER_SECOND
    due = [
        (sent + next_check_offset(schedule, 0.0, CAP) + rng.uniform(*PICKUP_SECONDS), n)
        for n, (sent, _) in enumerate(orders)
    ]
    heapq.heapify(due)
    delays, requests, waited = [0.0] * len(orders), [0] * len(orders), [0.0] * len(orders)
    free_at, used = 0.0, 0
    while due:
        moment, number = heapq.heappop(due)
        sent, completion = orders[number]
        asked = max(moment, free_at)  # the first free start
        free_at, used = asked + gap, used + (asked < HOURS * 3600)
        waited[number] += asked - moment
        requests[number] += 1
        answered = asked + ANSWER_SECONDS
        if sent + completion <= asked:
            delays[number] = answered - (sent + completion)
            continue
        pickup = rng.uniform(*PICKUP_SECONDS)
        heapq.heappush(due, (sent + next_check_offset(schedule, answered - sent, CAP) + pickup, number))
    return delays, requests, waited, used


def _arrivals(arrivals: float, rng: random.Random) -> list[tuple[float, float]]:
    """(sent, completion seconds after sending) of every order of the run."""
    sent, orders = 0.0, []
    while sent < HOURS * 3600:
        sent += rng.expovariate(arrivals)
        orders.append(sent)
    return list(zip(orders, draw(REFERENCE_MIX, len(orders), rng), strict=True))


def report_rate(arrivals: float, training: list[float]) -> None:
    sent_in_window = round(arrivals * WINDOW_SECONDS)
    allowed = allowance(BUDGET_PER_SECOND, sent_in_window)
    schedules = {
        f"learned at MONITOR_CHECK_BUDGET {CHECK_BUDGET:g}, budget ignored": learn_schedule(
            training, CHECK_BUDGET, CAP
        ),
        f"learned at the allowance, {allowed:.2f}, with the learner's sampling margin": learn_schedule(
            training, max(allowed, 1.0), CAP
        ),
        f"**budget-bound: learned at the allowance, {allowed:.2f}**": learn_schedule(
            training, max(allowed, 1.0), CAP, safety_errors=0.0
        ),
    }
    print(
        f"\n## {arrivals:g} orders/s at {BUDGET_PER_SECOND:g} requests/s: allowance {BUDGET_PER_SECOND:g}/s x "
        f"{WINDOW_SECONDS:g} s / {sent_in_window} orders = {allowed:.2f}\n"
    )
    print(
        "| schedule | median delay | p95 delay | requests per order | weighted mean delay | wait per check "
        "| gate busy | median delay by hour sent |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, schedule in schedules.items():
        result = simulate(schedule, arrivals, random.Random(f"{SEED}-{arrivals}-orders"))
        hours = ", ".join(f"{seconds(median)}" for median in result.by_hour.values())
        print(
            f"| {label} | {seconds(statistics.median(result.delays))} | {seconds(percentile(result.delays, 0.95))} "
            f"| {result.requests:.2f} | {seconds(result.weighted)} | {seconds(result.wait)} | {result.busy:.0%} "
            f"| {hours} |"
        )
    expected = ", ".join(f"{expected_requests(schedule, training, CAP):.2f}" for schedule in schedules.values())
    print(f"\nexpected requests per order on the training draw, same rows: {expected}")


def main() -> int:
    start = time.perf_counter()
    training = draw(REFERENCE_MIX, TRAINING_ORDERS, random.Random(f"{SEED}-training"))
    print("# Steady state at the request budget, simulated clock")
    print(
        f"\nreference mix, orders arriving with exponential gaps for {HOURS:g} h on one integration at "
        f"{BUDGET_PER_SECOND:g} requests/s (one start every {1 / BUDGET_PER_SECOND:g} s, the oldest due first); "
        f"measured: the orders sent in hours {MEASURED_FROM:g}-{MEASURED_TO:g}; weighted mean delay: each delay "
        f"/ (1 + completion / {DELAY_WEIGHT_SECONDS:g} s), what the learner minimises"
    )
    for arrivals in ARRIVAL_RATES:
        report_rate(arrivals, training)
    print(f"\ntotal {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
