"""POST /hooks/internal/<integration id>/: the `order-status` events of an `internal`
integration, signed by the other tenant's platform (hooks.signature).

Refused with 401, and nothing changed, unless every check passes, in this order: a body of at
most MAX_BODY_BYTES, an integration with an enabled webhook and a secret, signature version v1,
a timestamp within MAX_SKEW_SECONDS of now, the signature over this delivery, and a nonce not
seen before (inserted in the shared table: a conflict is a replay, whichever gunicorn worker or
host saw it first). A verified event is acknowledged with 200 whatever it names (an unknown or
final order is logged at DEBUG), so the platform stops retrying it. The answer names no reason:
the log does (never the body, the signature or the secret).
"""

import logging
import uuid
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hooks.events import handle_event
from hooks.models import NONCE_MAX_LENGTH, SeenNonce, WebhookSetting
from hooks.signature import VERSION, signature_matches
from providers.redaction import register_secret

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_SKEW_SECONDS = 300
# Nonces are kept twice the accepted skew: a replay of an accepted timestamp meets its nonce.
NONCE_KEEP = timedelta(seconds=2 * MAX_SKEW_SECONDS)


class Refused(Exception):
    """Why a delivery is refused (for the log only)."""


@csrf_exempt
@require_POST
def order_status_event(request: HttpRequest, integration_id: uuid.UUID) -> HttpResponse:
    now = timezone.now()
    try:
        body = _body(request)
        with transaction.atomic():
            setting = _setting(integration_id)
            _verify(request, setting, body, now)
            handled = handle_event(integration_id, body, now)
            WebhookSetting.objects.filter(pk=setting.pk).update(last_event_at=now)
    except Refused as refusal:
        log.warning("webhook of integration %s refused: %s", integration_id, refusal)
        return JsonResponse({"error": "unauthorized"}, status=401)
    log.debug("webhook of integration %s: %s", integration_id, handled.note)
    return JsonResponse({"ok": True})


def _body(request: HttpRequest) -> bytes:
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        raise Refused("bad Content-Length") from None
    if declared > MAX_BODY_BYTES:
        raise Refused(f"body over {MAX_BODY_BYTES} bytes")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise Refused(f"body over {MAX_BODY_BYTES} bytes")
    return body


def _setting(integration_id: uuid.UUID) -> WebhookSetting:
    setting = WebhookSetting.objects.filter(pk=integration_id).first()
    if setting is None or not setting.enabled or not setting.secret:
        raise Refused("no enabled webhook with a secret for this integration")
    register_secret(setting.secret)  # masked in every log line, like the providers' credentials
    return setting


def _verify(request: HttpRequest, setting: WebhookSetting, body: bytes, now: datetime) -> None:
    headers = request.headers
    if headers.get("X-Webhook-Signature-Version", "").strip() != VERSION:
        raise Refused("unknown signature version")
    timestamp = headers.get("X-Webhook-Timestamp", "").strip()
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Refused("missing or bad timestamp")
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        raise Refused(f"timestamp more than {MAX_SKEW_SECONDS} s away")
    nonce = headers.get("X-Webhook-Nonce", "").strip()
    if not nonce or len(nonce) > NONCE_MAX_LENGTH or not nonce.isascii() or not nonce.isprintable():
        raise Refused("missing or bad nonce")
    given = headers.get("X-Webhook-Signature", "")
    if not signature_matches(setting.secret, given, request.method or "", request.path, timestamp, nonce, body):
        raise Refused("bad or missing signature")
    if not _first_sight(nonce, now):
        raise Refused("nonce seen before (replay)")


def _first_sight(nonce: str, now: datetime) -> bool:
    """Record the nonce; False when it was there already. One INSERT ... ON CONFLICT DO NOTHING,
    so two workers receiving the same delivery at once cannot both accept it."""
    table = connection.ops.quote_name(SeenNonce._meta.db_table)
    SeenNonce.objects.filter(seen_at__lt=now - NONCE_KEEP).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (nonce, seen_at) VALUES (%s, %s) ON CONFLICT (nonce) DO NOTHING",
            [nonce, connection.ops.adapt_datetimefield_value(now)],
        )
        return cursor.rowcount == 1
