"""The other tenant's webhook sender, for the `internal` sandbox: signed `order-status` events
POSTed to a configured URL when an order changes status, as platform.md section 6 describes
(headers, canonical string, body), over real HTTP.

Faults, queued (`queue(kind, times)`) or drawn at `<kind>_rate`: `lost` (never sent),
`duplicate` (sent twice with the same nonce: the second is a replay), `late` (sent
`late_seconds` later, so a later event may arrive first: reordered), `bad_signature` (signed
with another secret). Every delivery is recorded (`deliveries`): what was sent, when it left
and what it was answered, never the secret. No retries: a refused or lost event stays lost,
which is what the monitor's schedule is for.
"""

import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from sandbox.faults import FaultPlan

FAULT_KINDS = ("lost", "duplicate", "late", "bad_signature")
TIMEOUT_SECONDS = 15.0  # the platform's own


class WebhookSender:
    def __init__(self, url: str, secret: str, rng: random.Random | None = None, late_seconds: float = 3.0):
        self.url, self.secret, self.late_seconds = url, secret, late_seconds
        self.lost_rate = self.duplicate_rate = self.late_rate = self.bad_signature_rate = 0.0
        self._lock = threading.Lock()
        self.faults = FaultPlan(FAULT_KINDS, rates=self, rng=rng or random.Random())
        self.deliveries: list[dict] = []
        self._session = requests.Session()

    def queue(self, kind: str, times: int = 1) -> None:
        with self._lock:
            self.faults.queue(kind, times)

    def send(self, order_id: str, order_uuid: str | None, status: str) -> None:
        """Post the event of one status change, in a thread of its own (the sandbox keeps answering)."""
        body = json.dumps(
            {
                "event": "order-status",
                "event_id": str(uuid.uuid4()),
                "order_id": order_id,
                "order_uuid": order_uuid,
                "status": status,
                "product_id": None,
                "quantity": 1,
                "updated_at": datetime.now(UTC).isoformat(),
            },
            separators=(",", ":"),
        ).encode()
        with self._lock:
            fault = self.faults.pick()
        changed_at = time.time()
        if fault == "lost":
            self._record(order_id, order_uuid, status, changed_at, None, fault)
            return
        threading.Thread(target=self._deliver, args=(body, order_id, order_uuid, status, changed_at, fault)).start()

    def signed_headers(self, body: bytes, secret: str | None = None, nonce: str | None = None) -> dict[str, str]:
        """The headers of one delivery of `body` to this sender's URL."""
        timestamp, nonce = str(int(time.time())), nonce or str(uuid.uuid4())
        path = urlsplit(self.url).path or "/"
        return {
            "Content-Type": "application/json",
            "X-Webhook-Signature-Version": "v1",
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Nonce": nonce,
            "X-Webhook-Signature": platform_signature(secret or self.secret, path, timestamp, nonce, body),
        }

    def _deliver(self, body, order_id, order_uuid, status, changed_at, fault):
        if fault == "late":
            time.sleep(self.late_seconds)
        headers = self.signed_headers(body, secret="0" * 48 if fault == "bad_signature" else None)
        for _ in range(2 if fault == "duplicate" else 1):
            sent_at = time.time()
            try:
                answer = self._session.post(self.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS).status_code
            except requests.RequestException:
                answer = None
            self._record(order_id, order_uuid, status, changed_at, answer, fault, sent_at=sent_at)

    def _record(self, order_id, order_uuid, status, changed_at, answer, fault, sent_at=None):
        with self._lock:
            self.deliveries.append(
                {
                    "order_id": order_id,
                    "order_uuid": order_uuid,
                    "status": status,
                    "changed_at": changed_at,
                    "sent_at": sent_at,
                    "answered_at": time.time() if sent_at else None,
                    "answer": answer,
                    "fault": fault,
                }
            )


def platform_signature(secret: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The signature the platform sends (v1), written here on its own from platform.md so the
    monitor's verification (hooks.signature) is tested against a second implementation."""
    canonical = "\n".join(("POST", path, timestamp, nonce, hashlib.sha256(body).hexdigest()))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
