"""The budget of an integration without a row of its own: its provider family's, from the
providers' own guidance (platform.md, "Request budgets"; docs/SCALING.md)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """At most `per_second` requests a second and `in_flight` at once, every process together."""

    per_second: float
    in_flight: int


FAMILY_BUDGETS = {
    # znet's notes: wait 100-500 ms between requests, no dense parallel requests.
    "znet": Budget(5.0, 2),
    # barakat (the apstore software): no more than 10 requests a second.
    "apstore": Budget(10.0, 4),
    "barakat": Budget(10.0, 4),
    # the client API: the other tenant's per-minute limit when entered (RequestBudget), else this.
    "internal": Budget(10.0, 4),
}
OTHER_FAMILY = Budget(10.0, 4)


def family_budget(provider: str | None) -> Budget:
    return FAMILY_BUDGETS.get((provider or "").strip().lower(), OTHER_FAMILY)


def budget_of_row(row, provider: str | None) -> Budget:
    """The budget a RequestBudget row (or None) gives: a per-minute limit, when entered, bounds
    the second's budget to a sixtieth of it."""
    if row is None:
        return family_budget(provider)
    per_second = row.requests_per_second
    if row.requests_per_minute:
        per_second = min(per_second, row.requests_per_minute / 60.0)
    return Budget(max(per_second, 0.01), max(row.max_in_flight, 1))
