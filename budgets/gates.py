"""The request gate of an integration's client (providers.base): its budget read once, in the
thread that builds the client (the run's main thread, which has the database connection)."""

from django.db import DatabaseError

from budgets.defaults import Budget, budget_of_row
from budgets.limiter import LocalGate, SharedGate, gate_for
from budgets.models import RequestBudget


def budget_for(integration) -> Budget:
    """The integration's budget: its row in the admin, else its family's default."""
    try:
        row = RequestBudget.objects.filter(pk=integration.pk).first()
    except DatabaseError:  # no budgets table yet (migrate not run): the defaults hold
        row = None
    return budget_of_row(row, integration.provider)


def request_gate(integration, budgets_on: bool, request_seconds: float) -> LocalGate | SharedGate | None:
    """The gate every request of `integration` passes, or None (budgets off, an unsaved one).
    `request_seconds`: the longest one request waits (its connect and read timeouts)."""
    if not budgets_on or integration.pk is None:
        return None
    return gate_for(integration.pk, budget_for(integration), request_seconds)
