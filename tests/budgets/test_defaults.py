import uuid

from budgets.defaults import budget_of_row, family_budget
from budgets.models import RequestBudget


def test_each_family_has_its_providers_guidance_as_default():
    assert (family_budget("znet").per_second, family_budget("znet").in_flight) == (5.0, 2)
    assert (family_budget("apstore").per_second, family_budget("apstore").in_flight) == (10.0, 4)
    assert (family_budget(" Barakat ").per_second, family_budget("barakat").in_flight) == (10.0, 4)
    assert (family_budget("internal").per_second, family_budget("internal").in_flight) == (10.0, 4)


def test_an_operators_row_overrides_the_default_and_a_per_minute_limit_bounds_the_second():
    row = RequestBudget(integration_id=uuid.uuid4(), requests_per_second=8.0, max_in_flight=3)
    assert budget_of_row(row, "znet") == family_budget("znet").__class__(8.0, 3)
    row.requests_per_minute = 120
    assert budget_of_row(row, "internal").per_second == 2.0
    row.requests_per_minute = 6000
    assert budget_of_row(row, "internal").per_second == 8.0
