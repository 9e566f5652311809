import pytest

from hooks import schedule
from hooks.schedule import PushedIntegrations


@pytest.fixture(autouse=True)
def fresh_pushed_integrations(monkeypatch):
    """Each test reads which integrations are pushed from its own webhook settings, afresh at
    every lookup (the process's list is read again once a minute)."""
    monkeypatch.setattr(schedule, "PUSHED", PushedIntegrations(refresh_seconds=0))
