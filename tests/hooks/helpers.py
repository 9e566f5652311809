"""Signed deliveries of the client API's webhook, for the tests of tests/hooks."""

import json
import time
import uuid

from django.urls import reverse

from hooks.models import WebhookSetting
from hooks.signature import sign
from providers.models import Integration

SECRET = "5f1d0c3b2a4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f80"


def internal_with_webhook(base_url="http://127.0.0.1:9", secret=SECRET, enabled=True) -> Integration:
    integration = Integration.objects.create(name="shop2", provider="internal", base_url=base_url, api_token="tok-1")
    WebhookSetting.objects.create(integration_id=integration.pk, secret=secret, enabled=enabled)
    return integration


def event_body(order_uuid=None, order_id=None, status="accept") -> bytes:
    event = {
        "event": "order-status",
        "event_id": str(uuid.uuid4()),
        "order_id": order_id,
        "order_uuid": None if order_uuid is None else str(order_uuid),
        "status": status,
        "product_id": 12,
        "quantity": 1,
        "updated_at": "2026-01-01T00:00:00Z",
    }
    return json.dumps(event, separators=(",", ":")).encode()


def hook_path(integration) -> str:
    return reverse("internal-webhook", args=[integration.pk])


def signed_headers(path, body, secret=SECRET, timestamp=None, nonce=None, version="v1") -> dict[str, str]:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(uuid.uuid4())
    return {
        "X-Webhook-Signature-Version": version,
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Nonce": nonce,
        "X-Webhook-Signature": sign(secret, "POST", path, timestamp, nonce, body),
    }


def deliver(client, integration, body, **header_options):
    """POST `body` signed (header_options: see signed_headers) through the Django test client."""
    path = hook_path(integration)
    headers = signed_headers(path, body, **header_options)
    return client.post(path, data=body, content_type="application/json", headers=headers)
