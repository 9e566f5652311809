"""The learner's solver: the check times worth considering for a set of completion times, and
the plan of checks with the least weighted delay within a budget of requests per order.

schedules.learning prepares the samples and the margin; this module only optimises. Pure: no
database, no settings.
"""

import math
from bisect import bisect_left, bisect_right
from collections import deque
from itertools import groupby

from schedules.offsets import HORIZON_SECONDS

# Candidate check times: whole seconds up to a minute, then cells about 2 % wide. A minute
# after sending, a check 2 % later costs little; the coarser grid keeps learning fast.
FINE_GRID_SECONDS = 60
GRID_GROWTH = 1.02
# The price bisection stops when its bounds are within this ratio; `spend_rest` uses the rest.
PRICE_PRECISION = 1.1


class Plan:
    """Check offsets and what they cost over the samples: mean requests, mean weighted delay."""

    __slots__ = ("nodes", "offsets", "requests", "delay")

    def __init__(self, nodes: list[int], offsets: list[float], requests: float, delay: float):
        self.nodes = nodes  # candidate indexes, 0 (the send time) first
        self.offsets = offsets
        self.requests = requests
        self.delay = delay


class Candidates:
    """The times worth checking at, and what a check at each one catches.

    A check is only worth placing at a sample: moving it earlier, down to the sample before it,
    shortens delays and catches the same orders. So the candidates are the samples rounded up
    to whole seconds and grouped into grid cells, plus filler times where samples lie more than
    `cap` apart, so that a schedule keeping every gap within the cap always exists.

    Index 0 is the send time (not a check). Cumulative from there, for each candidate:
    `caught` samples completed by then, `weight` the sum of their weights 1 / (1 + completion /
    delay_weight_seconds) and `weighted_sum` the sum of weight x completion, so that the
    weighted delay of the samples a check at j catches after a check at i is
    offsets[j] x (weight[j] - weight[i]) - (weighted_sum[j] - weighted_sum[i])."""

    def __init__(self, completions: list[float], cap: float, delay_weight_seconds: float):
        self.cap = cap
        self.delay_weight_seconds = delay_weight_seconds
        self.total = len(completions)
        self.offsets = [0.0]
        self.caught = [0]
        self.weight = [0.0]
        self.weighted_sum = [0.0]
        self._solved: dict[float, Plan] = {}
        previous = 0.0
        for latest, completions_in_cell in _grid_cells(completions):
            offset = max(1.0, float(math.ceil(latest)))
            while offset - previous > cap:
                previous += cap
                self._append(previous, [])
            self._append(offset, completions_in_cell)
            previous = offset

    def _append(self, offset: float, completions: list[float]) -> None:
        weights = [1.0 / (1.0 + completion / self.delay_weight_seconds) for completion in completions]
        self.offsets.append(offset)
        self.caught.append(self.caught[-1] + len(completions))
        self.weight.append(self.weight[-1] + math.fsum(weights))
        weighted = math.fsum(weight * completion for weight, completion in zip(weights, completions, strict=True))
        self.weighted_sum.append(self.weighted_sum[-1] + weighted)

    def best_within(self, budget: float) -> Plan:
        """The plan with the least delay found whose mean requests stay within `budget`.

        Lagrange relaxation: `solve(price)` minimises delay + price x requests; a bisection
        finds a price (within PRICE_PRECISION) whose plan just fits the budget; `spend_rest`
        then adds single checks with what the price steps left unspent."""
        best = self.solve(price=0.0)
        if best.requests <= budget:
            return best
        # Above this price one request more costs more than any delay saves.
        high = self.total * self.offsets[-1] + 1.0
        best = self.solve(high)
        if best.requests > budget:
            return best
        low = 1e-6
        while high / low > PRICE_PRECISION:
            price = math.sqrt(low * high)
            plan = self.solve(price)
            if plan.requests <= budget:
                high, best = price, plan
            else:
                low = price
        return self.spend_rest(best, budget)

    def solve(self, price: float) -> Plan:
        """`_solve(price)`, remembered: a second bisection for a slightly smaller budget
        retraces the first one's steps."""
        if price not in self._solved:
            self._solved[price] = self._solve(price)
        return self._solved[price]

    def _solve(self, price: float) -> Plan:
        """The checks minimising total weighted delay + price x total requests, the last check
        at the last candidate. A dynamic programme over the candidates:

            cost[j] = min over i < j, offsets[j] - offsets[i] <= cap, of
                      cost[i] + price x (samples open after i) + delay of the samples caught at j

        For a fixed j the part that depends on i is the line  level[i] - offsets[j] x weight[i],
        and once a later predecessor beats an earlier one it beats it at every later j (the
        cost is Monge; past the cap the earlier one is out anyway). So the best predecessors
        form a queue of (candidate, first index where it is best): O(n log n), not O(n^2)."""
        offsets, caught, weight, weighted_sum = self.offsets, self.caught, self.weight, self.weighted_sum
        last = len(offsets) - 1
        level = [0.0] * (last + 1)  # cost[i] + price x open after i + weighted_sum[i]
        predecessor = [0] * (last + 1)
        level[0] = price * self.total
        queue: deque[tuple[int, int]] = deque([(0, 1)])
        for j in range(1, last + 1):
            while len(queue) > 1 and queue[1][1] <= j:
                queue.popleft()
            i = predecessor[j] = queue[0][0]
            cost = level[i] - offsets[j] * weight[i] + offsets[j] * weight[j] - weighted_sum[j]
            level[j] = cost + price * (self.total - caught[j]) + weighted_sum[j]
            while queue:
                rival, start = queue[-1]
                start = max(start, j + 1)
                if start <= last and self._beats(j, rival, start, level):
                    queue.pop()
                    continue
                first = self._first_win(j, rival, start, level)
                if first <= last:
                    queue.append((j, first))
                break
            else:
                queue.append((j, j + 1))
        nodes = [last]
        while nodes[-1]:
            nodes.append(predecessor[nodes[-1]])
        return self._plan(nodes[::-1])

    def _beats(self, newer: int, older: int, at: int, level: list[float]) -> bool:
        """Is `newer` at least as good a predecessor of candidate `at` as `older`?"""
        offset = self.offsets[at]
        if offset - self.offsets[older] > self.cap:
            return True
        return level[newer] - offset * self.weight[newer] <= level[older] - offset * self.weight[older]

    def _first_win(self, newer: int, older: int, start: int, level: list[float]) -> int:
        """The first candidate from `start` on where `newer` beats `older` (past the last one if
        none): where `older` falls out of the cap, or where their lines cross."""
        first = bisect_right(self.offsets, self.offsets[older] + self.cap, lo=start)
        slope_gain = self.weight[newer] - self.weight[older]
        if slope_gain > 0:
            crossing = (level[newer] - level[older]) / slope_gain
            first = min(first, bisect_left(self.offsets, crossing, lo=start))
        return first

    def spend_rest(self, plan: Plan, budget: float) -> Plan:
        """Add checks to `plan` while the budget allows, each time the one that saves the most
        delay per request added. (The price bisection stops where the next step would overshoot
        the budget, which can leave a tenth of it unspent.)"""
        nodes = list(plan.nodes)
        allowed = budget * self.total
        requests, delay = plan.requests * self.total, plan.delay * self.total
        while True:
            best = None  # (saving per request, position, candidate, requests added, delay saved)
            for position in range(1, len(nodes)):
                before, after = nodes[position - 1], nodes[position]
                for node in range(before + 1, after):
                    # Orders still open at `node` are asked once more; the ones completed since
                    # `before` are caught at `node` instead of at `after`.
                    added = self.total - self.caught[node]
                    saved = (self.offsets[after] - self.offsets[node]) * (self.weight[node] - self.weight[before])
                    if requests + added > allowed or saved <= 0:
                        continue
                    ratio = saved / added if added else math.inf
                    if best is None or ratio > best[0]:
                        best = (ratio, position, node, added, saved)
            if best is None:
                return self._plan(nodes)
            _, position, node, added, saved = best
            nodes.insert(position, node)
            requests += added
            delay -= saved

    def _plan(self, nodes: list[int]) -> Plan:
        requests = delay = 0.0
        for before, node in zip(nodes, nodes[1:], strict=False):
            requests += self.total - self.caught[before]
            delay += self.offsets[node] * (self.weight[node] - self.weight[before])
            delay -= self.weighted_sum[node] - self.weighted_sum[before]
        return Plan(nodes, [self.offsets[node] for node in nodes[1:]], requests / self.total, delay / self.total)

    def requests_standard_error(self, plan: Plan) -> float:
        """Standard error of the plan's mean requests per order: the samples are one week's
        draw; another week's mean differs by about this much."""
        squares = 0.0
        for number, (before, node) in enumerate(zip(plan.nodes, plan.nodes[1:], strict=False), start=1):
            squares += number * number * (self.caught[node] - self.caught[before])
        variance = max(squares / self.total - plan.requests**2, 0.0)
        return math.sqrt(variance / self.total)


def _grid_cells(completions: list[float]) -> list[tuple[float, list[float]]]:
    """Sorted completion times grouped by grid cell: (the latest, all of them) per cell."""
    cells = []
    for _, in_cell in groupby(completions, key=lambda completion: bisect_left(_GRID_EDGES, completion)):
        members = list(in_cell)
        cells.append((members[-1], members))
    return cells


def _make_grid_edges() -> list[float]:
    edges = [float(second) for second in range(1, FINE_GRID_SECONDS + 1)]
    while edges[-1] < HORIZON_SECONDS:
        edges.append(float(max(edges[-1] + 1, math.ceil(edges[-1] * GRID_GROWTH))))
    return edges


_GRID_EDGES = _make_grid_edges()
