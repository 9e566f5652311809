"""A fake znet server for tests, the demo and the benchmarks (over real HTTP on 127.0.0.1).

Orders live in memory. An order placed with pin_ekle.php answers "in progress" to its first
status checks and its final state (completed with a generated PIN, or failed) at the
`checks_until_final`-th check; with `completion_delays` (a mix of sandbox.completion_delays)
it answers its final state once a delay drawn from that mix has passed since it was placed,
however often it is asked. Faults can be injected at random rates (error lines, HTTP 500,
slow answers, malformed and empty bodies) or queued for one reference. Every request is kept in
a log (without credentials), readable in-process or at GET /_sandbox/log.

Placing remembers every reference: a repeated pin_ekle.php answers znet's duplicate line. Two
ways to lose a place answer while the order IS taken: `first_place_delay` (the answer to each
reference's first pin_ekle comes that many seconds late, past a client's read timeout) and
queued place faults (`http500`: the order is taken, the answer is HTTP 500; `drop`: the order is
taken, the connection closes without an answer).
"""

import random
import threading
import time
from dataclasses import dataclass, field

from sandbox.completion_delays import MIXES, draw
from sandbox.http import CLOSE_WITHOUT_ANSWER, SandboxServer, generate_pin

WRONG_CREDENTIALS_LINE = "1|Bayi kodu veya şifre hatalı"
UNKNOWN_REFERENCE_LINE = "5|İşlem bulunamadı"
TRY_LATER_LINE = "8|Sistem yoğun, lütfen daha sonra tekrar deneyin"
MISSING_DENOMINATION_LINE = "3|Kupur Bilgisi Bulunamadı"
DUPLICATE_REFERENCE_LINE = "6|Bu referans ile daha önce işlem yapılmış"
PLACED_LINE = "OK|97.50|10250.00"
MALFORMED_BODIES = ("<html><body><h1>502 Bad Gateway</h1></body></html>", "OK|", "OK|9|x", "garbage")

FAULT_KINDS = ("error_line", "http500", "slow", "malformed", "empty")
PLACE_FAULT_KINDS = ("http500", "drop")


@dataclass
class SandboxConfig:
    kod: str = "demo-bayi"
    sifre: str = "demo-sifre"
    checks_until_final: int = 2
    fail_ratio: float = 0.0  # share of placed orders that end failed
    latency: float = 0.0  # seconds added to every answer
    error_line_rate: float = 0.0
    http500_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 30.0
    malformed_rate: float = 0.0
    empty_rate: float = 0.0
    first_place_delay: float = 0.0  # seconds the answer to a reference's first pin_ekle is late
    # A mix name (sandbox.completion_delays.MIXES): orders complete that long after they were
    # placed instead of at the checks_until_final-th check.
    completion_delays: str | None = None
    seed: int | None = None


@dataclass
class SandboxOrder:
    referans: str
    outcome: str = "completed"  # or "failed"
    pin: str | None = None
    reason: str = "Stok yetersiz, işlem iptal edildi"  # the text of a failed order
    description: str = "İşlem başarılı"  # the text of a completed order (some products put a code here)
    checks_until_final: int = 2
    checks: int = 0
    queued_faults: list = field(default_factory=list)
    ready_at: float | None = None  # time.time() from which it answers its final state, if set

    def is_final(self) -> bool:
        if self.ready_at is not None:
            return time.time() >= self.ready_at
        return self.checks >= self.checks_until_final


class ZnetSandbox(SandboxServer):
    def __init__(self, config=None):
        self.config = config or SandboxConfig()
        self.orders: dict[str, SandboxOrder] = {}
        self.request_log: list[dict] = []
        self._place_faults: list[str] = []
        self._lock = threading.Lock()
        self._random = random.Random(self.config.seed)

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
    ):
        """A placed order. `reason` is the text of a failed order, `description` the one of a
        completed order; both and `pin` are sent exactly as given (any length). `ready_at`
        (time.time()): final from then on, whatever the checks (else drawn from
        `completion_delays` when configured)."""
        with self._lock:
            order = self._new_order(referans, outcome, pin, checks_until_final, reason)
            if description is not None:
                order.description = description
            if ready_at is not None:
                order.ready_at = ready_at
            return order

    def queue_fault(self, referans, kind, times=1):
        """The next `times` status checks of `referans` answer with this fault."""
        with self._lock:
            self.orders[referans].queued_faults.extend([kind] * times)

    def queue_place_fault(self, kind: str, times: int = 1) -> None:
        """The next `times` pin_ekle requests take the order, then answer with this fault."""
        if kind not in PLACE_FAULT_KINDS:
            raise ValueError(f"unknown place fault {kind!r}; expected one of {PLACE_FAULT_KINDS}")
        with self._lock:
            self._place_faults.extend([kind] * times)

    def place_requests(self, referans: str | None = None) -> list[dict]:
        with self._lock:
            return [e for e in self.request_log if e["path"] == "pin_ekle" and referans in (None, e["referans"])]

    def status_checks(self, referans=None):
        with self._lock:
            return [e for e in self.request_log if e["path"] == "pin_kontrol" and referans in (None, e["referans"])]

    # -- the endpoints: (HTTP status, body text, delay seconds) -------------------------------
    def respond(self, path, params, headers):
        if not path.startswith("/servis/"):
            return 404, "not found", 0
        return self.answer(path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".php"), params)

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
            fault = order.queued_faults.pop(0) if order and order.queued_faults else self._random_fault()
            if fault:
                self._log("pin_kontrol", referans, fault)
                return _fault_answer(fault, latency, self.config.slow_seconds)
            if order is None:
                self._log("pin_kontrol", referans, "unknown")
                return 200, UNKNOWN_REFERENCE_LINE, latency
            order.checks += 1
            line = _status_line(order)
            self._log("pin_kontrol", referans, line.split("|")[1])
        return 200, line, latency

    def _answer_place(self, params):
        referans = params.get("referans", "")
        refusal = _place_refusal(params)
        with self._lock:
            if refusal:
                self._log("pin_ekle", referans, f"refused: {refusal}")
                return 200, refusal, self.config.latency
            if referans in self.orders:
                self._log("pin_ekle", referans, "duplicate")
                return 200, DUPLICATE_REFERENCE_LINE, self.config.latency
            fault = self._place_faults.pop(0) if self._place_faults else None
            self._log("pin_ekle", referans, f"placed, then {fault}" if fault else "placed")
            failed = self._random.random() < self.config.fail_ratio
            self._new_order(referans, outcome="failed" if failed else "completed")
        # The order is taken before the answer leaves (or is lost): a lost answer hides a real order.
        delay = self.config.latency + self.config.first_place_delay
        if fault == "http500":
            return 500, "Internal Server Error", delay
        if fault == "drop":
            return 200, CLOSE_WITHOUT_ANSWER, delay
        return 200, PLACED_LINE, delay

    def _new_order(self, referans, outcome="completed", pin=None, checks_until_final=None, reason=None):
        """Called with the lock held."""
        order = SandboxOrder(
            referans=referans,
            outcome=outcome,
            pin=pin if pin is not None or outcome != "completed" else generate_pin(),
            checks_until_final=checks_until_final or self.config.checks_until_final,
        )
        if reason is not None:
            order.reason = reason
        if self.config.completion_delays:
            (delay,) = draw(MIXES[self.config.completion_delays], 1, self._random)
            order.ready_at = time.time() + delay
        self.orders[referans] = order
        return order

    def _random_fault(self):
        roll = self._random.random()
        for kind in FAULT_KINDS:
            rate = getattr(self.config, f"{kind}_rate")
            if roll < rate:
                return kind
            roll -= rate
        return None

    def _log(self, endpoint, referans, result):
        self.request_log.append({"path": endpoint, "referans": referans, "result": result, "at": time.time()})


def _place_refusal(params):
    if not params.get("kupur"):
        return MISSING_DENOMINATION_LINE
    if not params.get("referans") or not params.get("oyun"):
        return "3|Eksik parametre"
    return None


def _status_line(order):
    if not order.is_final():
        return "OK|1||İşleminiz devam ediyor"
    if order.outcome == "completed":
        return f"OK|2|{order.pin or '-'}|{order.description}"
    return f"OK|3||{order.reason}"


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


_CATALOG = {
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
