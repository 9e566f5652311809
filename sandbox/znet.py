"""A fake znet server for tests, the demo and the benchmarks (over real HTTP on 127.0.0.1).

Orders live in memory. An order placed with pin_ekle.php answers "in progress" to its first
status checks and its final state (completed with a generated PIN, or failed) at the
`checks_until_final`-th check. Faults can be injected at random rates (error lines, HTTP 500,
slow answers, malformed and empty bodies) or queued for one reference. Every request is kept in
a log (without credentials), readable in-process or at GET /_sandbox/log.
"""

import random
import threading
import time
from dataclasses import dataclass, field

from sandbox.http import SandboxServer, generate_pin

WRONG_CREDENTIALS_LINE = "1|Bayi kodu veya şifre hatalı"
UNKNOWN_REFERENCE_LINE = "5|İşlem bulunamadı"
TRY_LATER_LINE = "8|Sistem yoğun, lütfen daha sonra tekrar deneyin"
MISSING_DENOMINATION_LINE = "3|Kupur Bilgisi Bulunamadı"
MALFORMED_BODIES = ("<html><body><h1>502 Bad Gateway</h1></body></html>", "OK|", "OK|9|x", "garbage")

FAULT_KINDS = ("error_line", "http500", "slow", "malformed", "empty")


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
    seed: int | None = None


@dataclass
class SandboxOrder:
    referans: str
    outcome: str = "completed"  # or "failed"
    pin: str | None = None
    reason: str = "Stok yetersiz, işlem iptal edildi"
    checks_until_final: int = 2
    checks: int = 0
    queued_faults: list = field(default_factory=list)


class ZnetSandbox(SandboxServer):
    def __init__(self, config=None):
        self.config = config or SandboxConfig()
        self.orders: dict[str, SandboxOrder] = {}
        self.request_log: list[dict] = []
        self._lock = threading.Lock()
        self._random = random.Random(self.config.seed)

    # -- seeding and inspection (tests) -------------------------------------------------------
    def add_order(self, referans, outcome="completed", pin=None, checks_until_final=None, reason=None):
        order = SandboxOrder(
            referans=referans,
            outcome=outcome,
            pin=pin if pin is not None or outcome != "completed" else generate_pin(),
            checks_until_final=checks_until_final or self.config.checks_until_final,
        )
        if reason is not None:
            order.reason = reason
        with self._lock:
            self.orders[referans] = order
        return order

    def queue_fault(self, referans, kind, times=1):
        """The next `times` status checks of `referans` answer with this fault."""
        with self._lock:
            self.orders[referans].queued_faults.extend([kind] * times)

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
        if not params.get("kupur"):
            return 200, MISSING_DENOMINATION_LINE, self.config.latency
        if not referans or not params.get("oyun"):
            return 200, "3|Eksik parametre", self.config.latency
        with self._lock:
            exists = referans in self.orders
            self._log("pin_ekle", referans, "duplicate" if exists else "placed")
        if exists:
            return 200, "6|Bu referans ile daha önce işlem yapılmış", self.config.latency
        failed = self._random.random() < self.config.fail_ratio
        self.add_order(referans, outcome="failed" if failed else "completed")
        return 200, "OK|97.50|10250.00", self.config.latency

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


def _status_line(order):
    if order.checks < order.checks_until_final:
        return "OK|1||İşleminiz devam ediyor"
    if order.outcome == "completed":
        return f"OK|2|{order.pin or '-'}|İşlem başarılı"
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
