"""Asking a client about one reference, as the tests do (the run asks in batches: check_statuses)."""

from providers.base import CheckResult, ProviderClient


def check_status(client: ProviderClient, reference: str, deadline: float | None = None) -> CheckResult:
    """The CheckResult of one reference."""
    return client.check_statuses([reference], deadline)[reference]
