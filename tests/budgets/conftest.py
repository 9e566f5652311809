import pytest

from budgets.limiter import SHARED


@pytest.fixture(autouse=True)
def shared_limiter_connection_closed():
    """The gates' connection is closed after each test, so the test database can be dropped."""
    yield
    SHARED.close()
