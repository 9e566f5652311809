"""monitor_health shows each internal integration's webhook and the time of its last event."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from hooks.models import WebhookSetting
from providers.models import Integration
from tests.hooks.helpers import internal_with_webhook

pytestmark = pytest.mark.django_db


def health(*args):
    out = StringIO()
    try:
        call_command("monitor_health", *args, stdout=out)
    except SystemExit:
        pass
    return out.getvalue()


def test_each_internal_integration_shows_its_last_webhook_event():
    pushed = internal_with_webhook()
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=3)
    WebhookSetting.objects.filter(pk=pushed.pk).update(last_event_at=at)
    silent = Integration.objects.create(name="shop9", provider="internal", base_url="http://127.0.0.1:9")
    Integration.objects.create(name="znet1", provider="znet", base_url="http://127.0.0.1:9")

    text = health()
    rows = json.loads(health("--json"))["webhooks"]

    assert "webhooks of internal integrations (last valid event):" in text
    assert f"  shop2 ({pushed.pk}): enabled, last event {at.isoformat()}, safety net schedule" in text
    assert f"  shop9 ({silent.pk}): not set, last event never, learned schedule" in text
    assert "znet1" not in text.split("webhooks of internal")[1]
    assert [(row["name"], row["webhook"], row["last_event_at"], row["schedule"]) for row in rows] == [
        ("shop2", "enabled", at.isoformat(), "safety net"),
        ("shop9", "not set", None, "learned"),
    ]
