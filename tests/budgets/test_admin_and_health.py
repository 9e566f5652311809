"""An operator sets an integration's budget in the admin; monitor_health shows every
integration's budget in effect and a pause."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from budgets.models import RequestBudget
from orders.models import MonitorRun
from providers.models import Integration
from tests.admin_pages import admin_url
from tests.schedules.completions import completed_orders

pytestmark = pytest.mark.django_db


def health(*args):
    out = StringIO()
    try:
        call_command("monitor_health", *args, stdout=out)
    except SystemExit:
        pass
    return out.getvalue()


def test_an_operator_enters_a_budget_and_the_per_minute_limit_of_an_internal_integration(admin_user):
    tenant = Integration.objects.create(name="shop2", provider="internal", base_url="http://127.0.0.1:9")
    client = Client()
    client.force_login(admin_user)
    assert client.get(admin_url(RequestBudget, "add")).status_code == 200
    answer = client.post(
        admin_url(RequestBudget, "add"),
        {
            "integration_id": str(tenant.pk),
            "requests_per_second": "8",
            "max_in_flight": "3",
            "requests_per_minute": "120",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    row = RequestBudget.objects.get(pk=tenant.pk)
    assert (row.requests_per_second, row.max_in_flight, row.requests_per_minute) == (8.0, 3, 120)
    page = client.get(admin_url(RequestBudget, "changelist")).content.decode()
    assert "shop2" in page and "2/s, 3 in flight" in page


def test_an_out_of_range_budget_is_refused(admin_user):
    znet = Integration.objects.create(name="znet1", provider="znet", base_url="http://127.0.0.1:9")
    client = Client()
    client.force_login(admin_user)
    answer = client.post(
        admin_url(RequestBudget, "add"),
        {"integration_id": str(znet.pk), "requests_per_second": "0", "max_in_flight": "0"},
    )
    assert answer.status_code == 200 and not RequestBudget.objects.exists()


def test_health_shows_each_integrations_budget_and_a_pause():
    znet = Integration.objects.create(name="znet1", provider="znet", base_url="http://127.0.0.1:9")
    barakat = Integration.objects.create(name="barakat1", provider="barakat", base_url="http://127.0.0.1:9")
    paused_until = timezone.now().replace(microsecond=0) + timedelta(minutes=2)
    RequestBudget.objects.create(
        integration_id=barakat.pk, requests_per_second=3, max_in_flight=1, paused_until=paused_until
    )

    text = health()
    rows = {row["name"]: row for row in json.loads(health("--json"))["budgets"]}

    assert "request budgets (every process together):" in text
    assert f"  znet1 ({znet.pk}): 5/s, 2 in flight" in text
    assert f"  barakat1 ({barakat.pk}): 3/s, 1 in flight, paused until" in text
    assert (rows["znet1"]["source"], rows["barakat1"]["source"]) == ("default", "admin")
    assert rows["barakat1"]["paused_until"] == paused_until.isoformat()


def test_health_lists_a_budget_bound_integration_and_stays_healthy(settings):
    settings.MONITOR_CHECK_BUDGET = 3
    MonitorRun.objects.create(started_at=timezone.now(), finished_at=timezone.now(), succeeded=True)
    busy = Integration.objects.create(name="znet-main", provider="znet", base_url="http://127.0.0.1:9")
    quiet = Integration.objects.create(name="znet-quiet", provider="znet", base_url="http://127.0.0.1:9")
    for _ in range(3):  # 1,800 orders sent in the last 15 minutes: 2 a second on znet's 5/s
        completed_orders(busy.pk, [10.0] * 600)
    completed_orders(quiet.pk, [10.0] * 100)

    out = StringIO()
    call_command("monitor_health", stdout=out)  # exit status 0: no SystemExit
    report = json.loads(health("--json"))

    assert "budget-bound (sent more orders than their budget checks at 3 requests each):" in out.getvalue()
    assert f"  znet-main ({busy.pk}): budget-bound: 2.5 requests per order (2.0 orders/s sent, 5/s budget)" in (
        out.getvalue()
    )
    assert out.getvalue().count(": budget-bound: ") == 1  # not znet-quiet
    assert report["healthy"] is True
    assert report["budget_bound"] == [
        {
            "integration_id": str(busy.pk),
            "name": "znet-main",
            "requests_per_order": 2.5,
            "orders_per_second": 2.0,
            "budget_per_second": 5.0,
        }
    ]
    schedules = {row["name"]: row for row in report["check_schedules"]}
    assert schedules["znet-main"]["budget_bound"]["requests_per_order"] == 2.5
    assert schedules["znet-quiet"]["budget_bound"] is None


def test_health_without_budget_bound_integrations_has_no_such_section():
    Integration.objects.create(name="znet1", provider="znet", base_url="http://127.0.0.1:9")
    assert "budget-bound" not in health()
    assert json.loads(health("--json"))["budget_bound"] == []
