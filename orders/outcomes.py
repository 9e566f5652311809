"""The vocabulary of an order's life: what a check did to an order (`Outcome`, the one list the
run's report, its summary line, its metrics and order_monitor_runs count) and a planned change
(`Transition`, made by orders.plans / orders.place_plans, applied by orders.transitions)."""

import enum
from dataclasses import dataclass, field


class Outcome(enum.StrEnum):
    """What a check did to an order: the one list the run's report, its summary line and its
    metrics count (in this order)."""

    COMPLETED = "completed"
    FAILED = "failed"
    PROCESSING = "processing"
    ERROR = "error"  # the check failed; the order is rescheduled
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"  # the order changed under us (final elsewhere, or claim lost)
    # Completed at the provider, but the PIN does not fit "pinCode" or the money cannot be moved:
    # the order stays active and is never claimed again until an operator resolves it.
    HELD = "held"

    @property
    def is_final(self):
        return self in (Outcome.COMPLETED, Outcome.FAILED, Outcome.TIMED_OUT)

    @property
    def moves_money(self):
        """A status change with the platform's money effects: decided under the row lock."""
        return self in (Outcome.COMPLETED, Outcome.FAILED)

    @property
    def keeps_provider_answer(self):
        """Written even after the claim was lost: the provider has finished, and throwing its
        answer (maybe a PIN in hand) away would only delay delivery."""
        return self.is_final or self == Outcome.HELD

    @property
    def count_name(self):
        """The name of its count in the summary line and in order_monitor_runs."""
        return "errors" if self == Outcome.ERROR else self.value


@dataclass(frozen=True)
class Transition:
    """`outcome` is None for a place answer that leaves the order in progress (sent, pending)."""

    outcome: Outcome | None
    changes: dict = field(default_factory=dict)
    message: str = ""  # for the history row

    @property
    def is_final(self) -> bool:
        return self.outcome is not None and self.outcome.is_final

    @property
    def moves_money(self) -> bool:
        return self.outcome is not None and self.outcome.moves_money

    @property
    def keeps_provider_answer(self) -> bool:
        return self.outcome is not None and self.outcome.keeps_provider_answer
