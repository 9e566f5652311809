"""The one way the project retries: tenacity's `Retrying` with a count of tries and a deadline.

Used for provider requests (providers.http) and for database writes through a lost connection
(orders.connection_loss). A try is never started after the deadline: the wait before it counts.
"""

import time
from collections.abc import Callable

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base


def retrying(
    *,
    attempts: int,
    deadline: float | None,
    retry: Callable[[BaseException], bool],
    wait: Callable[[RetryCallState], float],
    before_sleep: Callable[[RetryCallState], None] | None = None,
) -> Retrying:
    """At most `attempts` tries, none starting at or after `deadline` (a time.monotonic() value;
    None: no deadline), trying again after an exception `retry` accepts; the last error is raised."""
    return Retrying(
        stop=stop_after_attempt(attempts) | _past(deadline),
        wait=wait,
        retry=retry_if_exception(retry),
        before_sleep=before_sleep,
        reraise=True,
    )


class _past(stop_base):
    """Stop when the next try would start at or after the deadline."""

    def __init__(self, deadline: float | None):
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0
        return self.deadline is not None and time.monotonic() + upcoming >= self.deadline
