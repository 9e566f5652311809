import pytest

from hooks.schedule import PUSHED


@pytest.fixture(autouse=True)
def fresh_pushed_integrations():
    """Each test reads which integrations are pushed from its own webhook settings."""
    PUSHED.forget()
    yield
    PUSHED.forget()
