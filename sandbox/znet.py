"""A fake znet server for tests, the demo and the benchmarks (over real HTTP on 127.0.0.1).

Orders live in memory. An order placed with pin_ekle.php answers "in progress" to its first
status checks and its final state (completed with a generated PIN, or failed) at the
`checks_until_final`-th check; with `completion_delays` (a mix of sandbox.completion_delays)
it answers its final state once a delay drawn from that mix has passed since it was placed,
however often it is asked. Faults (`sandbox.faults`) can be injected at random rates (error
lines, HTTP 500, slow answers, malformed and empty bodies) or queued, for the next status checks
or for one reference. Every request is kept in a log (without credentials), readable in-process
or at GET /_sandbox/log.

Status lines come in every shape the field shows (`STATUS_STYLES`, for the whole sandbox with
`answer_styles` or per order with `add_order(styles=...)`): `lower_ok` (`ok|...`), `bom` (a UTF-8
byte order mark first), `spaces` (blanks around the fields), `bare` (`OK|1` with nothing after),
`dash_pin` (` - ` in the PIN field of pending and failed lines). A PIN given with line breaks
is sent as is (several codes, one a line); `unknown_durum` answers a state znet's document
does not list.

Placing answers `OK|{place_cost}|{balance}` and remembers every reference: a repeated pin_ekle.php
answers as `duplicate_answer` says (`DUPLICATE_STYLES`: the older `6|... daha önce ...` line,
`4|Daha Önce Gönderilmiş (id)`, or HTTP 409). Two ways to lose a place answer while the order IS
taken: `first_place_delay` (the answer to each
reference's first pin_ekle comes that many seconds late, past a client's read timeout) and
queued place faults (`http500`: the order is taken, the answer is HTTP 500; `drop`: the order is
taken, the connection closes without an answer).
"""

import random
import time
from dataclasses import dataclass
from typing import Any

from sandbox.completion_delays import MIXES, draw
from sandbox.faults import FaultPlan, place_fault_answer
from sandbox.http import SandboxServer, order_fields
from sandbox.options import option, rate, word_list

WRONG_CREDENTIALS_LINE = "1|Bayi kodu veya şifre hatalı"
UNKNOWN_REFERENCE_LINE = "5|İşlem bulunamadı"
TRY_LATER_LINE = "8|Sistem yoğun, lütfen daha sonra tekrar deneyin"
MISSING_DENOMINATION_LINE = "3|Kupur Bilgisi Bulunamadı"
DUPLICATE_REFERENCE_LINE = "6|Bu referans ile daha önce işlem yapılmış"
SENT_BEFORE_LINE = "4|Daha Önce Gönderilmiş ({order_id})"
MALFORMED_BODIES = ("<html><body><h1>502 Bad Gateway</h1></body></html>", "OK|", "OK|x|y", "garbage")

STATUS_STYLES = ("lower_ok", "bom", "spaces", "bare", "dash_pin")
DUPLICATE_STYLES = ("referans_line", "sent_before", "http409")

FAULT_KINDS = ("error_line", "http500", "slow", "malformed", "empty")


@dataclass
class SandboxConfig:
    """What the sandbox accepts and how it behaves; `option(...)` fields are also options of
    `manage.py znet_sandbox` (sandbox.options)."""

    kod: str = option("demo-bayi", "dealer code the sandbox accepts")
    sifre: str = option("demo-sifre", "password the sandbox accepts")
    checks_until_final: int = option(2, "the N-th status check gives the final state", minimum=1)
    fail_ratio: float = option(0.0, "share of placed orders that end failed", type=rate)
    latency: float = option(0.0, "added to every answer", flag="--latency-ms", scale=1000)  # seconds
    error_line_rate: float = option(0.0, "share of checks answered 8|...", type=rate)
    http500_rate: float = option(0.0, type=rate)
    slow_rate: float = option(0.0, type=rate)
    slow_seconds: float = option(30.0)
    malformed_rate: float = option(0.0, type=rate)
    empty_rate: float = option(0.0, type=rate)
    answer_styles: tuple[str, ...] = option(
        (), "comma-separated shapes of every status line: " + ", ".join(STATUS_STYLES), type=word_list(*STATUS_STYLES)
    )
    place_cost: str = option("97.50", "the dealer cost (TRY) pin_ekle.php answers")
    balance: str = option("10250.00", "the remaining balance pin_ekle.php answers")
    duplicate_answer: str = option("referans_line", "how a repeated referans is answered", choices=DUPLICATE_STYLES)
    first_place_delay: float = option(
        0.0,
        "seconds the answer to an order's first place request is late (the order is taken at once)",
        minimum=0,
    )
    completion_delays: str | None = option(
        None,
        "orders complete after a delay drawn from this mix of completion times (docs/PERFORMANCE.md), "
        "instead of after --checks-until-final checks",
        choices=tuple(sorted(MIXES)),
    )
    seed: int | None = option(None, type=int)


@dataclass
class SandboxOrder:
    referans: str
    outcome: str = "completed"  # or "failed"
    pin: str | None = None
    reason: str = "Stok yetersiz, işlem iptal edildi"  # the text of a failed order
    description: str = "İşlem başarılı"  # the text of a completed order (some products put a code here)
    checks_until_final: int = 2
    checks: int = 0
    ready_at: float | None = None  # time.time() from which it answers its final state, if set
    styles: tuple[str, ...] | None = None  # STATUS_STYLES of its lines; None: the sandbox's
    unknown_durum: str | None = None  # a state znet's document does not list, answered at every check
    znet_id: int = 0  # znet's own number of the order (in its "sent before" line)

    def is_final(self) -> bool:
        if self.ready_at is not None:
            return time.time() >= self.ready_at
        return self.checks >= self.checks_until_final


class ZnetSandbox(SandboxServer):
    status_endpoint = "pin_kontrol"
    place_endpoint = "pin_ekle"

    def __init__(self, config=None):
        super().__init__()
        self.config = config or SandboxConfig()
        self.orders: dict[str, SandboxOrder] = {}
        self._random = random.Random(self.config.seed)
        self.faults = FaultPlan(FAULT_KINDS, rates=self.config, rng=self._random)
        self._duplicates_queued = 0

    # -- seeding and inspection (tests) -------------------------------------------------------
    def add_order(
        self,
        referans,
        outcome="completed",
        pin=None,
        checks_until_final=None,
        reason=None,
        description=None,
        ready_at=None,
        styles=None,
        unknown_durum=None,
    ):
        """A placed order. `reason` is the text of a failed order, `description` the one of a
        completed order; both and `pin` are sent exactly as given (any length, line breaks
        included). `ready_at` (time.time()): final from then on, whatever the checks (else
        drawn from `completion_delays` when configured). `styles`: the STATUS_STYLES of its
        lines; `unknown_durum`: a state to answer at every check instead of 1, 2 or 3."""
        unknown = [style for style in styles or () if style not in STATUS_STYLES]
        if unknown:
            raise ValueError(f"unknown status line styles {unknown}; expected some of {STATUS_STYLES}")
        with self._lock:
            order = self._new_order(referans, outcome, pin, checks_until_final, reason)
            if description is not None:
                order.description = description
            if ready_at is not None:
                order.ready_at = ready_at
            order.styles, order.unknown_durum = styles, unknown_durum
            return order

    def queue_fault(self, kind: str, times: int = 1, reference: str | None = None) -> None:
        """The next `times` status checks answer with this fault; with `reference`, the next
        `times` status checks of that order."""
        with self._lock:
            if reference is not None and reference not in self.orders:
                raise KeyError(f"the sandbox has no order {reference!r}")
            self.faults.queue(kind, times, key=reference)

    def queue_place_duplicate(self, times: int = 1) -> None:
        """The next `times` place requests meet znet's duplicate check, as if their referans had
        been placed before (its answer lost): znet has the order, and answers `duplicate_answer`."""
        with self._lock:
            self._duplicates_queued += times

    def _mentions(self, entry, reference):
        return entry["referans"] == reference

    # -- the endpoints: (HTTP status, body text, delay seconds) -------------------------------
    def endpoint_of(self, path):
        if not path.startswith("/servis/"):
            return None
        return path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".php")

    def respond(self, path, params, headers):
        endpoint = self.endpoint_of(path)
        if endpoint is None:
            return 404, "not found", 0
        return self.answer(endpoint, params)

    def answer(self, endpoint, params):
        if params.get("kod") != self.config.kod:
            return 200, "", self.config.latency  # znet's answer to an unknown dealer
        if params.get("sifre") != self.config.sifre:
            return 200, WRONG_CREDENTIALS_LINE, self.config.latency
        if endpoint == "pin_kontrol":
            return self._answer_status(params.get("tahsilat_api_islem_id", ""))
        if endpoint == "pin_ekle":
            return self._answer_place(params)
        if endpoint == "pin_listesi":
            with self._lock:
                self._log("pin_listesi", "", f"{len(_CATALOG['result'])} products")
            return 200, _CATALOG, self.config.latency
        return 404, "not found", 0

    def _answer_status(self, referans):
        latency = self.config.latency
        with self._lock:
            order = self.orders.get(referans)
            fault = self.faults.queued(referans) or self.faults.pick()
            if fault:
                self._log("pin_kontrol", referans, fault)
                return _fault_answer(fault, latency, self.config.slow_seconds)
            if order is None:
                self._log("pin_kontrol", referans, "unknown")
                return 200, UNKNOWN_REFERENCE_LINE, latency
            order.checks += 1
            durum, line = _status_line(order, self.config.answer_styles if order.styles is None else order.styles)
            self._log("pin_kontrol", referans, durum)
        return 200, line, latency

    def _answer_place(self, params):
        referans = params.get("referans", "")
        refusal = _place_refusal(params)
        with self._lock:
            if refusal:
                self._log("pin_ekle", referans, f"refused: {refusal}")
                return 200, refusal, self.config.latency
            if self._duplicates_queued and referans not in self.orders:
                self._duplicates_queued -= 1
                self._new_order(referans)  # placed "before"
            if referans in self.orders:
                self._log("pin_ekle", referans, "duplicate")
                return self._duplicate_answer(self.orders[referans])
            fault = self.place_faults.queued()
            self._log("pin_ekle", referans, f"placed, then {fault}" if fault else "placed")
            failed = self._random.random() < self.config.fail_ratio
            self._new_order(referans, outcome="failed" if failed else "completed")
        # The order is taken before the answer leaves (or is lost): a lost answer hides a real order.
        delay = self.config.latency + self.config.first_place_delay
        placed = f"OK|{self.config.place_cost}|{self.config.balance}"
        return place_fault_answer(fault, delay) or (200, placed, delay)

    def _duplicate_answer(self, order):
        if self.config.duplicate_answer == "http409":
            return 409, "Conflict", self.config.latency
        if self.config.duplicate_answer == "sent_before":
            return 200, SENT_BEFORE_LINE.format(order_id=order.znet_id), self.config.latency
        return 200, DUPLICATE_REFERENCE_LINE, self.config.latency

    def _new_order(self, referans, outcome="completed", pin=None, checks_until_final=None, reason=None):
        """Called with the lock held."""
        order = SandboxOrder(referans=referans, **order_fields(self.config, outcome, pin, checks_until_final, reason))
        order.znet_id = 166000 + len(self.orders)
        if self.config.completion_delays:
            (delay,) = draw(MIXES[self.config.completion_delays], 1, self._random)
            order.ready_at = time.time() + delay
        self.orders[referans] = order
        return order

    def _log(self, endpoint, referans, result):
        self.request_log.append({"path": endpoint, "referans": referans, "result": result, "at": time.time()})


def _place_refusal(params):
    if not params.get("kupur"):
        return MISSING_DENOMINATION_LINE
    if not params.get("referans") or not params.get("oyun"):
        return "3|Eksik parametre"
    return None


def _status_line(order, styles):
    """(the state answered, the status line) of a check of `order`, in the `styles` given."""
    no_pin = " - " if "dash_pin" in styles else ""
    if order.unknown_durum is not None:
        fields = [order.unknown_durum, no_pin, "İşlem durumu güncelleniyor"]
    elif not order.is_final():
        fields = ["1"] if "bare" in styles else ["1", no_pin, "İşleminiz devam ediyor"]
    elif order.outcome == "completed":
        fields = ["2", order.pin or "-", order.description]
    else:
        fields = ["3", no_pin, order.reason]
    head = "ok" if "lower_ok" in styles else "OK"
    line = (" | " if "spaces" in styles else "|").join([head, *fields])
    if "spaces" in styles:
        line = f"  {line} "
    return fields[0], ("\ufeff" + line if "bom" in styles else line)


def _fault_answer(kind, latency, slow_seconds):
    if kind == "error_line":
        return 200, TRY_LATER_LINE, latency
    if kind == "http500":
        return 500, "Internal Server Error", latency
    if kind == "slow":
        return 200, "OK|1||İşleminiz devam ediyor", slow_seconds
    if kind == "malformed":
        return 200, random.choice(MALFORMED_BODIES), latency
    return 200, "", latency  # empty


_CATALOG: dict[str, Any] = {
    "success": True,
    "result": [
        {
            "id": 1,
            "adi": "PUBG Mobile 60 UC",
            "aciklama": "",
            "oyun_id": 10,
            "oyun_adi": "PUBG Mobile",
            "fiyat": "97.50",
            "kupur": "60",
            "oyun_bilgi_id": 101,
        }
    ],
    "error": None,
}
