"""The vocabulary of an order's life and of a run: the order's states at the provider
("externalStatus") and in the platform (`status`), and which of them the monitor follows; what a
check did to an order (`Outcome`); a planned change (`Transition`, made by orders.plans /
orders.place_plans, applied by orders.transitions); and what a run did (`RunReport`: the summary
line, the metrics and the order_monitor_runs row count by Outcome). orders.models re-exports the
states."""

import enum
from collections import Counter
from dataclasses import dataclass, field

from django.db import models


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


# The summary line's first fields, always shown and in this order: scripts read the line. Every
# other count (held, update_failures, an outcome added later) follows only when it is not zero.
SUMMARY_FIELDS = ("checked", "completed", "failed", "processing", "errors", "timed_out", "released", "skipped")


@dataclass
class RunReport:
    """What one run did (or several, added with `merge`): the summary line, the metrics and the
    order_monitor_runs row are all made from it."""

    claimed: int = 0
    counts: Counter[Outcome] = field(default_factory=Counter)  # orders checked, by outcome
    released: int = 0  # claimed but not checked (deadline or stop): due again at once
    update_failures: int = 0  # results that could not be stored (database error)
    seconds: float = 0.0
    interrupted: bool = False
    deadline_reached: bool = False
    outcomes: dict = field(default_factory=dict)  # order id -> Outcome
    store_failures: dict = field(default_factory=dict)  # order id -> why its result was not stored

    def count(self, order, outcome: Outcome) -> None:
        self.outcomes[order.pk] = outcome
        self.counts[outcome] += 1

    def store_failed(self, order, problem: str) -> None:
        """A result that could not be stored: its write failed, or the database stayed away."""
        self.update_failures += 1
        self.store_failures[order.pk] = f"store failed: {problem}"

    @property
    def checked(self) -> int:
        return self.counts.total()

    @property
    def succeeded(self) -> bool:
        """What order_monitor_runs and the metrics record: a run succeeded unless it was stopped."""
        return not self.interrupted

    def named_counts(self) -> dict[str, int]:
        """{name: count}: checked, each Outcome (by its count_name), released, update_failures."""
        counts = {"checked": self.checked}
        counts.update((outcome.count_name, self.counts[outcome]) for outcome in Outcome)
        counts.update(released=self.released, update_failures=self.update_failures)
        return counts

    def merge(self, other: "RunReport") -> "RunReport":
        """Add `other` (a later run) to this report, in place: the counts and seconds summed, the
        later outcome of an order kept; interrupted or deadline reached if either was."""
        self.claimed += other.claimed
        self.counts.update(other.counts)
        self.released += other.released
        self.update_failures += other.update_failures
        self.seconds += other.seconds
        self.interrupted = self.interrupted or other.interrupted
        self.deadline_reached = self.deadline_reached or other.deadline_reached
        self.outcomes.update(other.outcomes)
        self.store_failures.update(other.store_failures)
        return self

    def summary_line(self) -> str:
        counts = self.named_counts()
        fields = [f"{name}={counts.pop(name)}" for name in SUMMARY_FIELDS]
        fields.append(f"seconds={self.seconds:.2f}")
        fields.extend(f"{name}={count}" for name, count in counts.items() if count)
        line = " ".join(fields)
        if self.interrupted:
            line += " (interrupted)"
        elif self.deadline_reached:
            line += " (deadline reached)"
        return line


class ExternalStatus(models.TextChoices):
    """The order's state at the provider (`"externalStatus"`)."""

    NOT_SENT = "not_sent"
    PENDING = "pending"
    SENT = "sent"
    PROCESSING = "processing"
    # Still at the provider: the platform writes "wait" from a provider's answer and "unknown"
    # after a provider's error line.
    WAIT = "wait"
    UNKNOWN = "unknown"
    # Final. The platform's own status change writes "done" for an approved order; older rows
    # (and the older monitor) say "completed".
    DONE = "done"
    COMPLETED = "completed"
    FAILED = "failed"


# An order delivered by its provider: "done" as the platform writes it, "completed" in older rows.
DELIVERED_STATUSES = (ExternalStatus.DONE, ExternalStatus.COMPLETED)
# The monitor follows orders in these states (still at the provider); any other state is final,
# not yet sent (not_sent, queued) or not the monitor's (forwarded, manual_required).
ACTIVE_STATUSES = (
    ExternalStatus.PENDING,
    ExternalStatus.SENT,
    ExternalStatus.PROCESSING,
    ExternalStatus.WAIT,
    ExternalStatus.UNKNOWN,
)
# The order of states an order moves through; the monitor never moves one backwards.
STATUS_RANK: dict[str, int] = {
    ExternalStatus.NOT_SENT: 0,
    ExternalStatus.PENDING: 1,
    ExternalStatus.UNKNOWN: 1,
    ExternalStatus.WAIT: 2,
    ExternalStatus.SENT: 2,
    ExternalStatus.PROCESSING: 3,
}


class PlatformStatus(models.TextChoices):
    """The platform's own view of the order (`status`)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
