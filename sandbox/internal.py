"""A fake tenant of the platform, as the `internal` family sees it through the tenant's client API,
for tests and the demo (real HTTP on 127.0.0.1).

Orders live in memory, found by the tenant's own order id or, with `uuid=1`, by the order_uuid
the placing side sent; an order the tenant does not know is an empty list. An order answers
"still processing" to its first status checks and its final state (completed with a generated
PIN, or rejected with a reason) from the `checks_until_final`-th check on, in one of the
platform's two record shapes (`record_style`, for the sandbox or per order with
`add_order(style={...})`): `nestjs` ({"id", "order_uuid", "status": wait | accept | reject,
"quantity", "pin", "note"}) or `django` ({"orderId", "status": pending | approved | rejected,
"pin", "note", "externalStatus"}); `wait_word`, `done_word`, `fail_word` replace the words
(`sent`, or one the monitor does not know). Every request needs the right `api-token` and
`X-Tenant-Host` headers, else HTTP 401. Every request is kept in a log without the token,
readable in-process or at GET /_sandbox/log.

Placing (POST newOrder) remembers every order_uuid: a repeated one answers HTTP 409
"order_uuid already used". `approve_at_once`: newOrder answers completed with the PIN (products
delivered at once); `place_refusal_word`: newOrder answers HTTP 201 with that status (`reject`)
and takes no order; `place_price`: the answer carries a `price`. Faults, queued: status checks
`http500`, `slow` (`slow_seconds` late), `malformed`; placing `http500` and `drop` (the order is
taken, the answer lost), and `first_place_delay` (the answer to each order's first newOrder
comes that many seconds late).

Webhooks (sandbox.webhooks): with `webhook_url` and `webhook_secret` (or `send_webhooks(url,
secret)` on a running sandbox), an order whose final state comes at a time (`completion_delays`:
a delay drawn from that mix for each placed order; `finish_in(order, seconds)` in tests) answers
its final state from then on, and at that moment the tenant posts its signed `order-status`
event (with the sender's faults: lost, duplicate, late, bad signature); GET /_sandbox/webhooks
reads the deliveries.
"""

import random
import re
import threading
import time
import uuid
from dataclasses import dataclass

from sandbox.client_api import DUPLICATE_UUID_MESSAGE, PLACE_PATH, ClientApiOrder, ClientApiSandbox
from sandbox.completion_delays import MIXES, draw
from sandbox.faults import FaultPlan
from sandbox.options import option, rate
from sandbox.webhooks import WebhookSender

CHECK_FAULT_KINDS = ("http500", "slow", "malformed")

UNAUTHORIZED_ANSWER = {"statusCode": 401, "message": "Unauthorized"}
MALFORMED_BODY = "<html><body><h1>502 Bad Gateway</h1></body></html>"
RECORD_STYLES = ("nestjs", "django")
# (still processing, completed, failed) in each record shape.
WORDS = {"nestjs": ("wait", "accept", "reject"), "django": ("pending", "approved", "rejected")}
# The "externalStatus" a django-shaped record carries at each stage.
_DJANGO_EXTERNAL = ("sent", "done", "failed")
REFUSED_MESSAGE = "Yetersiz stok, sipariş reddedildi"

_DASHED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


@dataclass
class SandboxConfig:
    """What the tenant accepts and how it behaves; `option(...)` fields are also options of
    `manage.py internal_sandbox` (sandbox.options). Check faults are queued only."""

    token: str = option("demo-tenant-token", "api-token header value the sandbox accepts", required=True)
    tenant_host: str = option(
        "127.0.0.1", "X-Tenant-Host the sandbox answers to: the host name of the integration's baseUrl"
    )
    checks_until_final: int = option(2, "the N-th status check gives the final state", minimum=1)
    fail_ratio: float = option(0.0, "share of placed orders that end rejected", type=rate)
    approve_at_once: bool = option(False, "newOrder answers approved with the PIN at once")
    wrap_in_data: bool = option(False, 'status answers are {"data": [...]} instead of a bare list')
    record_style: str = option("nestjs", "the shape of status records", choices=RECORD_STYLES)
    wait_word: str | None = option(None, "the status word of an order still processing (default: the shape's)")
    done_word: str | None = option(None, "the status word of a completed order (default: the shape's)")
    fail_word: str | None = option(None, "the status word of a rejected order (default: the shape's)")
    place_refusal_word: str | None = option(None, "newOrder answers HTTP 201 with this status and takes no order")
    place_price: float | None = option(None, "the price a newOrder answer carries", type=float)
    latency: float = option(0.0, "added to every answer", flag="--latency-ms", scale=1000)  # seconds
    slow_seconds: float = 30.0
    first_place_delay: float = option(
        0.0,
        "seconds the answer to an order's first place request is late (the order is taken at once)",
        minimum=0,
    )
    completion_delays: str | None = option(
        None,
        "placed orders become final after a delay drawn from this mix (docs/PERFORMANCE.md), not after N checks",
        choices=tuple(MIXES),
    )
    webhook_url: str | None = option(None, "post signed order-status events here when an order becomes final")
    webhook_secret: str | None = option(None, "the secret the events are signed with (48 hex characters)")
    seed: int | None = option(None, type=int)


@dataclass
class SandboxOrder(ClientApiOrder):
    reason: str = "Stok yok, sipariş reddedildi"
    user_identifier: str = ""
    extra_field: str = ""
    # time.time() from which the order answers its final state (None: after checks_until_final checks).
    final_at: float | None = None


class InternalSandbox(ClientApiSandbox):
    order_class = SandboxOrder
    style_fields = ("record_style", "wait_word", "done_word", "fail_word")

    def __init__(self, config=None):
        super().__init__(config or SandboxConfig())
        self.faults = FaultPlan(CHECK_FAULT_KINDS, rng=self._random)
        self.webhooks: WebhookSender | None = None
        if self.config.webhook_url and self.config.webhook_secret:
            self.send_webhooks(self.config.webhook_url, self.config.webhook_secret)

    def send_webhooks(self, url: str, secret: str) -> WebhookSender:
        """Post signed order-status events to `url` from now on; returns the sender (its faults
        and its record of deliveries)."""
        self.webhooks = WebhookSender(url, secret, rng=random.Random(self.config.seed))
        return self.webhooks

    def finish_in(self, order: SandboxOrder, seconds: float) -> None:
        """`order` answers its final state `seconds` from now, when its event is posted."""
        with self._lock:
            order.final_at = time.time() + seconds
        timer = threading.Timer(seconds, self._became_final, args=(order,))
        timer.daemon = True
        timer.start()

    def _became_final(self, order: SandboxOrder) -> None:
        if self.webhooks is not None:
            word = WORDS["nestjs"][1 if order.outcome == "completed" else 2]
            self.webhooks.send(order.order_id, order.order_uuid, word)

    # -- seeding and inspection (tests) -------------------------------------------------------
    def queue_fault(self, kind: str, times: int = 1, reference: str | None = None) -> None:
        """The next `times` status checks answer with this fault; with `reference`, the next
        `times` checks that ask about it."""
        with self._lock:
            self.faults.queue(kind, times, key=reference)

    def _mentions(self, entry, reference):
        return reference in (entry.get("orders"), entry.get("order_uuid"))

    def record_at(self, path):
        """/_sandbox/webhooks: the deliveries of its events (the demo reads them), besides the log."""
        if path != "/_sandbox/webhooks":
            return super().record_at(path)
        return list(self.webhooks.deliveries) if self.webhooks is not None else []

    # -- the endpoints: (HTTP status, JSON-able answer or raw text, delay seconds) -----------
    def endpoint_of(self, path):
        path = path.rstrip("/")
        if path == "/client/api/check":
            return "check"
        return "newOrder" if PLACE_PATH.fullmatch(path) else None

    def respond(self, path, params, headers):
        if path.rstrip("/") != "/client/api/check":
            return 404, {"statusCode": 404, "message": f"Cannot GET {path}"}, 0
        if not self._authorized(headers):
            self._log("check", result="unauthorized", tenant_host=headers.get("X-Tenant-Host"))
            return 401, UNAUTHORIZED_ANSWER, self.config.latency
        return self._answer_check(params)

    def respond_post(self, path, params, headers):
        match = PLACE_PATH.fullmatch(path.rstrip("/"))
        if match is None:
            return 404, {"statusCode": 404, "message": f"Cannot POST {path}"}, 0
        if not self._authorized(headers):
            self._log("newOrder", result="unauthorized", tenant_host=headers.get("X-Tenant-Host"))
            return 401, UNAUTHORIZED_ANSWER, self.config.latency
        return self._answer_place(match["product"], params)

    def _authorized(self, headers):
        host_ok = (headers.get("X-Tenant-Host") or "").lower() == self.config.tenant_host.lower()
        return self._token_ok(headers.get("api-token")) and host_ok

    def _answer_check(self, params):
        asked, by_uuid = (params.get("orders") or "").strip(), params.get("uuid") == "1"
        delay = self.config.latency
        with self._lock:
            fault = self.faults.queued(asked) or self.faults.queued()
            self._log("check", orders=asked, uuid=by_uuid, result=fault or "answered")
            if fault == "http500":
                return 500, "Internal Server Error", delay
            if fault == "malformed":
                return 200, MALFORMED_BODY, delay
            order = self._find(asked, by_uuid)
            records = [self._record(order)] if order is not None else []
        if fault == "slow":
            delay += self.config.slow_seconds
        return 200, ({"data": records} if self.config.wrap_in_data else records), delay

    def _answer_place(self, product, params):
        qty, order_uuid = params.get("qty", ""), params.get("order_uuid") or ""
        status, refusal = _place_refusal(product, qty, order_uuid)
        with self._lock:
            if refusal is None and self._find(order_uuid, by_uuid=True):
                status, refusal = 409, DUPLICATE_UUID_MESSAGE
            if refusal is None and self.config.place_refusal_word is not None:
                # Refused inside a 2xx answer, as the platform's client API does.
                self._take_order(product, qty, order_uuid, REFUSED_MESSAGE)
                answer = {"status": self.config.place_refusal_word, "note": REFUSED_MESSAGE, "order_uuid": order_uuid}
                return 201, answer, self.config.latency
            order, fault = self._take_order(
                product,
                qty,
                order_uuid,
                refusal,
                user_identifier=params.get("user_identifier", ""),
                extra_field=params.get("extra_field", ""),
            )
            if order is None:
                return status, {"statusCode": status, "message": refusal}, self.config.latency
        if self.config.completion_delays:
            (delay,) = draw(MIXES[self.config.completion_delays], 1, self._random)
            self.finish_in(order, delay)
        at_once = self.config.approve_at_once and order.outcome == "completed"
        words = WORDS[self.config.record_style]
        if self.config.record_style == "django":
            answer = {
                "orderId": order.order_id,
                "status": words[1] if at_once else words[0],
                "message": "Order created",
            }
        else:
            answer = {"id": order.order_id, "order_uuid": order.order_uuid, "quantity": order.qty}
            answer.update(status=words[1] if at_once else words[0], note="Order created")
        answer["pin"] = order.pin if at_once else None
        if self.config.place_price is not None:
            answer["price"] = self.config.place_price
        return self._placed_answer(fault, 201, answer)

    def _record(self, order):
        """The status record of one order, in the shape its style (else the config) says."""
        order.checks += 1
        shape = self.style_of(order, "record_style")
        if order.final_at is not None:
            still_open = time.time() < order.final_at
        else:
            still_open = order.checks < order.checks_until_final and not self.config.approve_at_once
        if still_open:
            stage, pin, note = 0, None, "Sipariş işleniyor"
        elif order.outcome == "completed":
            stage, pin, note = 1, order.pin, None
        else:
            stage, pin, note = 2, None, order.reason
        chosen = (self.style_of(order, name) for name in ("wait_word", "done_word", "fail_word"))
        word = [given or default for given, default in zip(chosen, WORDS[shape], strict=True)][stage]
        if shape == "django":
            external = _DJANGO_EXTERNAL[stage]
            return {"orderId": order.order_id, "status": word, "pin": pin, "note": note, "externalStatus": external}
        record = {"id": order.order_id, "order_uuid": order.order_uuid, "status": word, "quantity": order.qty}
        return {**record, "pin": pin, "note": note}

    def _new_order_id(self):
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))


def _place_refusal(product, qty, order_uuid):
    """(HTTP status, message) of a request the tenant refuses, else (None, None)."""
    if not product.isdigit():
        return 404, "package not found"
    if not qty.isdigit() or int(qty) < 1:
        return 400, "qty must be a positive integer"
    if not _DASHED_UUID.fullmatch(order_uuid):
        return 400, "order_uuid must be a UUID"
    return None, None
