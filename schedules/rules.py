"""How an order's checks are timed, as one value: made from the settings once, where a run,
a placing or a report starts (`CheckRules.from_settings`), and handed down to the plans, the
backoff and the schedule book, none of which reads a setting itself."""

from dataclasses import dataclass

from django.conf import settings

from schedules.offsets import default_schedule


@dataclass(frozen=True)
class CheckRules:
    backoff_base_seconds: float  # the first wait after a failed check, doubled at each one in a row
    backoff_cap_seconds: float  # the longest wait between two checks (a schedule's too)
    backoff_jitter: float  # waits spread by +- this fraction, so orders sent together part
    check_budget: float  # status requests an order, on average: what schedules are learned for
    max_age_hours: float  # an order without a final answer this long after sending times out
    first_check_delay_seconds: float  # a placed order whose answer was lost: its first status check
    overdue_minutes: float  # a check or a timeout this late is overdue (monitor_health, the metrics)

    @classmethod
    def from_settings(cls) -> "CheckRules":
        return cls(
            backoff_base_seconds=settings.MONITOR_BACKOFF_BASE_SECONDS,
            backoff_cap_seconds=settings.MONITOR_BACKOFF_CAP_SECONDS,
            backoff_jitter=settings.MONITOR_BACKOFF_JITTER,
            check_budget=settings.MONITOR_CHECK_BUDGET,
            max_age_hours=settings.MONITOR_MAX_AGE_HOURS,
            first_check_delay_seconds=settings.MONITOR_FIRST_CHECK_DELAY_SECONDS,
            overdue_minutes=settings.MONITOR_OVERDUE_MINUTES,
        )

    def default_schedule(self) -> tuple[float, ...]:
        """The schedule of an integration with too few completions to learn from."""
        return tuple(default_schedule(self.backoff_cap_seconds))
