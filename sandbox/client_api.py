"""What the apstore and internal sandboxes share: both fake a provider's client API
(providers.client_api). Orders live in memory under the provider's order id and are found by it
or, with `uuid=1`, by the order_uuid the placing side sent. newOrder takes an order unless it is
refused (the order ends failed at the config's `fail_ratio`), and its answer meets the queued
place faults. The request log never holds the token.

A subclass names its `order_class` and makes order ids (`_new_order_id`); what the endpoints
answer is its own."""

import random
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox.faults import place_fault_answer
from sandbox.http import SandboxServer, order_fields

PLACE_PATH = re.compile(r"/client/api/newOrder/(?P<product>[^/]+)/params")
# The refusal of a newOrder under an order_uuid the provider already has an order for.
DUPLICATE_UUID_MESSAGE = "order_uuid already used"


@dataclass
class ClientApiOrder:
    order_id: str
    order_uuid: str | None = None
    outcome: str = "completed"  # or "failed"
    pin: str | None = None
    reason: str = ""  # the provider's text of a failed order
    checks_until_final: int = 2
    checks: int = 0
    product: str = ""
    qty: int = 1
    # Overrides of the sandbox config's answer-shape fields for this order only, e.g.
    # {"pin_field": "voucher", "done_word": "completed"} (the fields each sandbox lists).
    style: dict[str, Any] = field(default_factory=dict)


class ClientApiSandbox(SandboxServer):
    status_endpoint = "check"
    place_endpoint = "newOrder"
    order_class: type[ClientApiOrder] = ClientApiOrder
    # The config fields an order's `style` may override.
    style_fields: tuple[str, ...] = ()

    def __init__(self, config: Any):
        super().__init__()
        self.config = config
        self.orders: dict[str, ClientApiOrder] = {}  # by the provider's order id
        self._by_uuid: dict[str, ClientApiOrder] = {}  # by the order_uuid, as 32 hex digits
        self._random = random.Random(config.seed)

    # -- seeding and inspection (tests) -------------------------------------------------------
    def add_order(self, order_uuid=None, outcome="completed", pin=None, checks_until_final=None, reason=None, **extra):
        """Make the provider know an order (placed under `order_uuid`, if given); its order id is
        generated unless `extra` gives an `order_id`; `style` overrides the config's answer shape
        for this order."""
        unknown = set(extra.get("style") or {}) - set(self.style_fields)
        if unknown:
            raise ValueError(f"unknown style settings {sorted(unknown)}; expected some of {self.style_fields}")
        with self._lock:
            order_id = str(extra.pop("order_id", None) or self._new_order_id())
            fields = order_fields(self.config, outcome, pin, checks_until_final, reason)
            order = self.order_class(order_id=order_id, order_uuid=order_uuid, **fields, **extra)
            self.orders[order_id] = order
            if order_uuid:
                self._by_uuid[uuid.UUID(order_uuid).hex] = order
        return order

    def style_of(self, order: ClientApiOrder, name: str) -> Any:
        """An answer-shape setting for `order`: its own, else the sandbox config's."""
        return order.style.get(name, getattr(self.config, name))

    def find_order(self, reference: str) -> ClientApiOrder | None:
        """By order_uuid (any UUID spelling) or by the provider's order id; None if unknown."""
        with self._lock:
            return self._find(reference)

    def _new_order_id(self) -> str:
        """A new order id, as the provider makes them. Called with the lock held."""
        raise NotImplementedError

    # -- answering ------------------------------------------------------------------------------
    def _token_ok(self, token: str | None) -> bool:
        return secrets.compare_digest((token or "").encode(), self.config.token.encode())

    def _take_order(self, product: str, qty: str, order_uuid: str | None, refusal: str | None, **details: str):
        """Log a newOrder request and, unless `refusal` says why not, take the order (`details`
        are the request's other fields, logged and kept on the order). Returns (the order or
        None, the place fault its answer meets). Called with the lock held."""
        fault = None if refusal else self.place_faults.queued()
        self._log(
            "newOrder",
            product=product,
            order_uuid=order_uuid,
            qty=qty,
            **details,
            result=refusal or (f"placed, then {fault}" if fault else "placed"),
        )
        if refusal:
            return None, None
        failed = self._random.random() < self.config.fail_ratio
        order = self.add_order(
            order_uuid=order_uuid,
            outcome="failed" if failed else "completed",
            product=product,
            qty=int(qty),
            **details,
        )
        return order, fault

    def _placed_answer(self, fault: str | None, status: int, answer: dict) -> tuple:
        """The (status, body, delay) answer to a newOrder that took the order: `answer` after the
        config's latency and `first_place_delay`, unless the place fault loses it."""
        # The order is taken before the answer leaves (or is lost): a lost answer hides a real order.
        delay = self.config.latency + self.config.first_place_delay
        return place_fault_answer(fault, delay) or (status, answer, delay)

    def _find(self, reference, by_uuid=None):
        """The order asked about: by order_uuid when `by_uuid`, by order id when False, by
        either when None."""
        reference = (reference or "").strip()
        if by_uuid is not False:
            try:
                order = self._by_uuid.get(uuid.UUID(reference).hex)
            except ValueError:
                order = None
            if order is not None or by_uuid:
                return order
        return self.orders.get(reference)

    def _log(self, endpoint, **details):
        # Never the token: only what was asked and how it was answered.
        with self._lock:
            self.request_log.append({"path": endpoint, **details, "at": time.time()})
