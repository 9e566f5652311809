"""The settings of one run, read once: the command (or a test, or the admin) builds a `RunConfig`
and the run, its cycles and its fan-out are handed it, so each default is applied in one place
and no step reads django.conf.settings for them on its own."""

from dataclasses import dataclass

from django.conf import settings

from orders.claiming import run_seconds


@dataclass(frozen=True)
class RunConfig:
    """What a run of check_pending_orders (plain, `--loop` or `--order-id`) goes by."""

    limit: int  # orders per claim
    max_seconds: float  # the run's length (bounded: orders.claiming.run_seconds)
    cycle_seconds: float  # a loop cycle's length, and its lease's
    lease_margin_seconds: float
    workers: int
    per_integration: int
    shutdown_grace_seconds: float

    @classmethod
    def from_settings(cls, limit: int | None = None, max_seconds: float | None = None) -> "RunConfig":
        """The settings, with `limit` / `max_seconds` (the command's options) in place of theirs."""
        return cls(
            limit=limit or settings.MONITOR_BATCH_LIMIT,
            max_seconds=run_seconds(max_seconds or settings.MONITOR_MAX_SECONDS),
            cycle_seconds=settings.MONITOR_LOOP_CYCLE_SECONDS,
            lease_margin_seconds=settings.MONITOR_LEASE_MARGIN_SECONDS,
            workers=settings.MONITOR_WORKERS,
            per_integration=settings.MONITOR_PER_INTEGRATION_CONCURRENCY,
            shutdown_grace_seconds=settings.MONITOR_SHUTDOWN_GRACE_SECONDS,
        )

    def for_cycle(self, seconds: float) -> "RunConfig":
        """The same, for one cycle of `seconds` (a loop's: at most cycle_seconds)."""
        return RunConfig(**{**self.__dict__, "max_seconds": run_seconds(seconds)})
