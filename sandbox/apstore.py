"""A fake apstore (barakat) server for tests, the demo and the benchmarks (real HTTP on 127.0.0.1).

Orders live in memory, found by the provider's order id or, with `uuid=1`, by the order_uuid the
placing side sent. An order answers `wait` to its first status checks and its final state
(`accept` with a generated PIN, or `reject` with a reason) from the `checks_until_final`-th check
on. Every request needs the right `api-token` header (else HTTP 401 with a JSON error).

Faults (`sandbox.faults`), at random rates or queued, for the next check requests or for one
order: `error_status` (a non-OK answer), `http500`, `slow` (the answer comes `slow_seconds`
late), `malformed` (a body that is not the expected JSON) and `omit` (the order is left out of
the answer). Every request is kept in a log without the token, readable in-process or at
GET /_sandbox/log.

Entries come in every shape the platform's barakat adapters read, for the whole sandbox (config)
or one order (`add_order(style={...})`): the word under `status_field` (status, state), the PIN
under `pin_field` (pin, code, voucher, serial), the text under `reason_field` (replay_api, note,
message, desc), the order named by `id_field` (order_id, id), the words `wait_word`,
`done_word`, `fail_word` (any word: `completed`, `ok`, `canceled`, one the monitor does not
know); `omit_top_status` answers `{"data": [...]}` without a top-level status.

Placing remembers every order_uuid: a repeated newOrder answers that the order_uuid was already
used (`duplicate_answer`: a non-OK answer, or HTTP 409). `place_refusal_word` refuses every
newOrder inside a top-level OK (`{"status": "OK", "data": {"status": "reject", ...}}`); the
accepted answer carries the price (`price_currency`: with a `currency`). Two ways to lose a
place answer while the order IS taken: `first_place_delay` (the answer to each order_uuid's
first newOrder comes that many seconds late, past a client's read timeout) and queued place
faults (`http500`; `drop`: the connection closes without an answer).
"""

import uuid
from dataclasses import dataclass
from functools import partial

from sandbox.client_api import DUPLICATE_UUID_MESSAGE, PLACE_PATH, ClientApiOrder, ClientApiSandbox
from sandbox.faults import FaultPlan
from sandbox.options import option, rate

REQUEST_FAULTS = ("error_status", "http500", "slow", "malformed")
ORDER_FAULTS = ("omit",)
FAULT_KINDS = REQUEST_FAULTS + ORDER_FAULTS

UNAUTHORIZED_ANSWER = {"status": "ERROR", "message": "Unauthenticated: missing or invalid api-token"}
TRY_LATER_ANSWER = {"status": "ERROR", "message": "Service busy, try again later"}
MALFORMED_BODIES = (
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
    '{"status": "OK", "data": [',
    '{"status": "OK", "data": {"order_id": 1}}',
    "[]",
)
PRICE = 2.5
STATUS_FIELDS = ("status", "state")
PIN_FIELDS = ("pin", "code", "voucher", "serial")
REASON_FIELDS = ("replay_api", "note", "message", "desc")
ID_FIELDS = ("order_id", "id")
DUPLICATE_STYLES = ("error", "http409")
REFUSED_IN_OK_MESSAGE = "Insufficient stock for this package"


@dataclass
class SandboxConfig:
    """What the sandbox accepts and how it behaves; `option(...)` fields are also options of
    `manage.py apstore_sandbox` (sandbox.options). The fault rates are shares of check requests."""

    token: str = option("demo-api-token", "api-token header value the sandbox accepts", required=True)
    checks_until_final: int = option(2, "the N-th status check gives the final state", minimum=1)
    fail_ratio: float = option(0.0, "share of placed orders that end rejected", type=rate)
    latency: float = option(0.0, "added to every answer", flag="--latency-ms", scale=1000)  # seconds
    error_status_rate: float = option(0.0, "share of checks answered non-OK", type=rate)
    http500_rate: float = option(0.0, type=rate)
    slow_rate: float = option(0.0, type=rate)
    slow_seconds: float = option(30.0)
    malformed_rate: float = option(0.0, type=rate)
    omit_rate: float = option(0.0, "share of orders left out of a check answer", type=rate)
    first_place_delay: float = option(
        0.0,
        "seconds the answer to an order's first place request is late (the order is taken at once)",
        minimum=0,
    )
    balance: float = option(10250.0)
    status_field: str = option("status", "where an entry's status word is", choices=STATUS_FIELDS)
    pin_field: str = option("pin", "where a completed entry's PIN is", choices=PIN_FIELDS)
    reason_field: str = option("note", "where an entry's text is", choices=REASON_FIELDS)
    id_field: str = option("order_id", "how an entry names its order", choices=ID_FIELDS)
    wait_word: str = option("wait", "the status word of an order still processing")
    done_word: str = option("accept", "the status word of a completed order")
    fail_word: str = option("reject", "the status word of a failed order")
    omit_top_status: bool = option(False, 'check answers {"data": [...]} without a top-level status')
    duplicate_answer: str = option("error", "how a repeated order_uuid is answered", choices=DUPLICATE_STYLES)
    place_refusal_word: str | None = option(
        None, "newOrder answers a top-level OK with this data.status (e.g. reject) and takes no order"
    )
    price_currency: str | None = option(None, "the currency named with the price of a placed order")
    first_order_id: int = 70001
    seed: int | None = option(None, type=int)


@dataclass
class SandboxOrder(ClientApiOrder):
    reason: str = "Out of stock, order cancelled"
    player_id: str = ""


class ApstoreSandbox(ClientApiSandbox):
    order_class = SandboxOrder
    style_fields = ("status_field", "pin_field", "reason_field", "id_field", "wait_word", "done_word", "fail_word")

    def __init__(self, config=None):
        super().__init__(config or SandboxConfig())
        self.balance = self.config.balance
        self._next_id = self.config.first_order_id
        # Request faults are queued under None, an order's faults under its order id.
        self.faults = FaultPlan(FAULT_KINDS, rates=self.config, rng=self._random)

    # -- seeding and inspection (tests) -------------------------------------------------------
    def queue_fault(self, kind: str, times: int = 1, reference: str | None = None) -> None:
        """The next `times` check requests answer with this fault; with `reference` (an order's
        order_uuid or order id), the next `times` requests that ask about that order."""
        if kind in ORDER_FAULTS and reference is None:
            raise ValueError(f"fault {kind!r} needs the order it applies to")
        with self._lock:
            if reference is None:
                self.faults.queue(kind, times)
                return
            target = self._find(reference)
            if target is None:
                raise KeyError(f"the sandbox has no order {reference!r}")
            self.faults.queue(kind, times, key=target.order_id)

    def _mentions(self, entry, reference):
        return reference in entry.get("orders", ()) or entry.get("order_uuid") == reference

    # -- the endpoints: (HTTP status, JSON-able answer or raw text, delay seconds) -----------
    def endpoint_of(self, path):
        return _endpoint_of(path)[0]

    def respond(self, path, params, headers):
        return self.answer(path, params, headers.get("api-token"))

    def answer(self, path, params, token):
        endpoint, product = _endpoint_of(path)
        if endpoint is None:
            return 404, {"status": "ERROR", "message": "not found"}, 0
        if not self._token_ok(token):
            self._log(endpoint, result="unauthorized")
            return 401, UNAUTHORIZED_ANSWER, self.config.latency
        if endpoint == "check":
            return self._answer_check(params)
        if endpoint == "newOrder":
            return self._answer_place(product, params)
        self._log("profile", result="ok")
        return 200, {"balance": f"{self.balance:.2f}", "currency": "USD"}, self.config.latency

    def _answer_check(self, params):
        asked = _parse_orders(params.get("orders"))
        by_uuid = params.get("uuid") == "1"
        if asked is None:
            self._log("check", orders=[], uuid=by_uuid, result="bad orders parameter")
            return 200, {"status": "ERROR", "message": "orders must look like [id1,id2,...]"}, self.config.latency
        with self._lock:
            unique = {id(order): order for order in (self._find(ref, by_uuid) for ref in asked) if order is not None}
            found = list(unique.values())  # each order once, even when asked about twice
            order_faults = {order.order_id: self.faults.pick(order.order_id, ORDER_FAULTS) for order in found}
            fault = self.faults.pick(kinds=REQUEST_FAULTS) or next(
                (f for f in order_faults.values() if f in REQUEST_FAULTS), None
            )
            delay = self.config.latency + (self.config.slow_seconds if fault == "slow" else 0)
            if fault in ("error_status", "http500", "malformed"):
                self._log("check", orders=asked, uuid=by_uuid, result=fault)
                return self._fault_answer(fault) + (delay,)
            data = [self._entry(order) for order in found if order_faults[order.order_id] != "omit"]
            self._log("check", orders=asked, uuid=by_uuid, result=f"{len(data)} entries")
        answer: dict[str, object] = {"data": data} if self.config.omit_top_status else {"status": "OK", "data": data}
        return 200, answer, delay

    def _answer_place(self, product, params):
        qty, order_uuid = params.get("qty", ""), params.get("order_uuid") or None
        refusal = _place_refusal(product, qty, order_uuid)
        with self._lock:
            duplicate = refusal is None and bool(order_uuid) and self._find(order_uuid, by_uuid=True) is not None
            if duplicate:
                refusal = DUPLICATE_UUID_MESSAGE
            refused_in_ok = refusal is None and self.config.place_refusal_word is not None
            if refused_in_ok:
                refusal = REFUSED_IN_OK_MESSAGE
            order, fault = self._take_order(product, qty, order_uuid, refusal, player_id=params.get("playerId", ""))
            if order is None:
                return self._refusal_answer(refusal, duplicate, refused_in_ok)
            self.balance -= PRICE * int(qty)
        data = {"order_id": int(order.order_id), "order_uuid": order_uuid, "status": "wait", "price": PRICE * int(qty)}
        if self.config.price_currency:
            data["currency"] = self.config.price_currency
        return self._placed_answer(fault, 200, {"status": "OK", "data": data})

    def _refusal_answer(self, refusal, duplicate, refused_in_ok):
        latency = self.config.latency
        if duplicate and self.config.duplicate_answer == "http409":
            return 409, {"status": "ERROR", "message": refusal}, latency
        if refused_in_ok:
            data = {"status": self.config.place_refusal_word, "message": refusal}
            return 200, {"status": "OK", "data": data}, latency
        return 200, {"status": "ERROR", "message": refusal}, latency

    def _entry(self, order):
        """The entry of one order in a check answer, in the shape its style (else the config) says."""
        order.checks += 1
        style = partial(self.style_of, order)
        entry = {style("id_field"): _json_id(order.order_id), "order_uuid": order.order_uuid, "qty": order.qty}
        if order.checks < order.checks_until_final:
            word, reason, pin = style("wait_word"), "Order is being processed", None
        elif order.outcome == "completed":
            word, reason, pin = style("done_word"), "Order completed", order.pin
        else:
            word, reason, pin = style("fail_word"), order.reason, None
        entry[style("status_field")] = word
        if pin is not None:
            entry[style("pin_field")] = pin
        reason_field = style("reason_field")
        # replay_api is a list of strings, the other text fields a string.
        entry["replay_api"] = [reason] if reason_field == "replay_api" else []
        if reason_field != "replay_api":
            entry[reason_field] = reason
        return entry

    def _fault_answer(self, kind):
        if kind == "error_status":
            return (200, TRY_LATER_ANSWER)
        if kind == "http500":
            return (500, "Internal Server Error")
        return (200, self._random.choice(MALFORMED_BODIES))

    def _new_order_id(self):
        while str(self._next_id) in self.orders:
            self._next_id += 1
        self._next_id += 1
        return str(self._next_id - 1)


def _endpoint_of(path):
    """(endpoint name, package id) for a request path, or (None, None)."""
    path = path.rstrip("/")
    if path == "/client/api/check":
        return "check", None
    if path == "/client/api/profile":
        return "profile", None
    match = PLACE_PATH.fullmatch(path)
    return ("newOrder", match["product"]) if match else (None, None)


def _parse_orders(text):
    """`[id1,id2,...]` -> ["id1", "id2", ...], or None when it does not look like that."""
    text = (text or "").strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    return [part.strip().strip('"') for part in text[1:-1].split(",") if part.strip()]


def _place_refusal(product, qty, order_uuid):
    if not product.isdigit():
        return "package not found"
    if not qty.isdigit() or int(qty) < 1:
        return "qty must be a positive whole number"
    if order_uuid:
        try:
            uuid.UUID(order_uuid)
        except ValueError:
            return "order_uuid must be a UUID"
    return None


def _json_id(order_id):
    return int(order_id) if order_id.isdigit() else order_id
