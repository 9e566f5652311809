"""What the fake provider servers (znet, apstore, internal) share: a threaded HTTP server on 127.0.0.1
that asks its sandbox for each answer, serves the sandbox's request log at GET /_sandbox/log,
counts the requests in flight per endpoint, and never writes a request line (it carries
credentials) to any log. Faults are `sandbox.faults`; the commands that serve a sandbox by hand
are `sandbox.management.sandbox_command`."""

import itertools
import json
import secrets
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sandbox.faults import CLOSE_WITHOUT_ANSWER, PLACE_FAULT_KINDS, Echo, FaultPlan, LongBody, QueuedAnswers


class _ThreadingServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many runs x workers connect at once; with the default backlog of 5 the kernel drops SYNs
    # and clients wait a second to retry, which would show up as fake provider latency.
    request_queue_size = 256


class SandboxServer:
    """Base of a fake provider: the HTTP server, the request log and what it measures, the
    place faults every provider knows.

    Subclasses implement respond(path, params, headers) -> (HTTP status, body: text or JSON-able,
    delay seconds) and endpoint_of(path), and name their `status_endpoint` and `place_endpoint`
    as their request log does; they append to `request_log` with `_lock` held, and take the
    fault of a place request with `place_faults.queued()`."""

    status_endpoint = "status"
    place_endpoint = "place"
    _server: "_ThreadingServer | None" = None
    _thread: threading.Thread | None = None

    def __init__(self):
        self.request_log: list[dict] = []
        self._lock = threading.RLock()
        self._in_flight = _InFlight()
        self.place_faults = FaultPlan(PLACE_FAULT_KINDS)
        self.queued_answers = QueuedAnswers()

    def respond(self, path, params, headers):
        raise NotImplementedError

    def respond_post(self, path, params, headers):
        """A POST's answer, like `respond` (its parameters are in the URL; the body is not read)."""
        return 405, "method not allowed", 0

    def endpoint_of(self, path: str) -> str | None:
        """The endpoint a request path asks for, by its name in the request log; None if none."""
        raise NotImplementedError

    # -- faults and inspection (tests) ---------------------------------------------------------
    def queue_place_fault(self, kind: str, times: int = 1) -> None:
        """The next `times` place requests take the order, then answer with this fault."""
        with self._lock:
            self.place_faults.queue(kind, times)

    def queue_answer(self, status: int, body: object, times: int = 1, matching: str | None = None) -> None:
        """The next `times` requests (with `matching`: whose path and query as sent hold it) get
        this answer instead of the sandbox's own: `body` is text, bytes (sent as they are),
        JSON-able, a sandbox.faults.Echo or a sandbox.faults.LongBody."""
        self.queued_answers.queue(status, body, times, matching)

    def status_checks(self, reference: str | None = None) -> list[dict]:
        """The logged status requests; with `reference`, those that asked about it."""
        return self._logged(self.status_endpoint, reference)

    def place_requests(self, reference: str | None = None) -> list[dict]:
        """The logged place requests; with `reference`, those that placed it."""
        return self._logged(self.place_endpoint, reference)

    def max_in_flight(self, endpoint: str) -> int:
        """The most requests to `endpoint` this server was answering at one moment: read, their
        answer not yet sent and their client still waiting for it."""
        return self._in_flight.most(endpoint)

    def record_at(self, path: str) -> list[dict] | None:
        """What GET `path` reads of the sandbox's records (/_sandbox/log: the request log), or
        None for a path that is not one."""
        if path != "/_sandbox/log":
            return None
        with self._lock:
            return list(self.request_log)

    def _logged(self, endpoint, reference):
        with self._lock:
            return [
                entry
                for entry in self.request_log
                if entry["path"] == endpoint and (reference is None or self._mentions(entry, reference))
            ]

    def _mentions(self, entry: dict, reference: str) -> bool:
        raise NotImplementedError

    # -- serving -------------------------------------------------------------------------------
    def start(self, host="127.0.0.1", port=0):
        self._server = _ThreadingServer((host, port), _handler_for(self))
        # A short poll interval lets stop() return at once instead of after up to half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def wait(self):
        """Block until the server stops (Ctrl-C interrupts the wait)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self):
        assert self._server is not None, "the sandbox is not started"
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}"


class _InFlight:
    """Requests read and not yet answered, per endpoint, and the most there were at once.

    A client that gave up waiting (its read timeout) closes its connection while the sandbox may
    still be sleeping on a slow answer: such a request no longer counts. Every arriving request
    first drops the requests whose client hung up, so the count is what the clients see."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open: dict[int, tuple[str | None, socket.socket]] = {}
        self._most: Counter[str | None] = Counter()
        self._tokens = itertools.count()

    def arrived(self, endpoint: str | None, connection: socket.socket) -> int:
        with self._lock:
            for token, (_, other) in list(self._open.items()):
                if _hung_up(other):
                    del self._open[token]
            token = next(self._tokens)
            self._open[token] = (endpoint, connection)
            now = sum(1 for open_endpoint, _ in self._open.values() if open_endpoint == endpoint)
            self._most[endpoint] = max(self._most[endpoint], now)
            return token

    def answered(self, token: int) -> None:
        with self._lock:
            self._open.pop(token, None)

    def most(self, endpoint: str) -> int:
        with self._lock:
            return self._most[endpoint]


def _hung_up(connection):
    """True when the client closed the connection (end of stream, nothing unread)."""
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # open, nothing to read: the client is waiting
    except OSError:
        return True


def generate_pin():
    raw = secrets.token_hex(8).upper()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def order_fields(config, outcome: str, pin: str | None, checks_until_final: int | None, reason: str | None) -> dict:
    """The fields of a fake order that `add_order` may leave out: a completed order gets a
    generated PIN, every order the sandbox's `checks_until_final`, a failed one the provider's
    usual reason (the order class's default)."""
    fields = {
        "outcome": outcome,
        "pin": pin if pin is not None or outcome != "completed" else generate_pin(),
        "checks_until_final": checks_until_final or config.checks_until_final,
    }
    if reason is not None:
        fields["reason"] = reason
    return fields


def _handler_for(sandbox):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two sends: with Nagle's algorithm the body would wait for
        # the client's delayed ACK (about 40 ms) on kept-alive connections.
        disable_nagle_algorithm = True

        def do_GET(self):
            record = sandbox.record_at(urlsplit(self.path).path)
            if record is not None:
                return self._send(200, record)
            self._answer(sandbox.respond)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))  # parameters are in the URL
            self._answer(sandbox.respond_post)

        def _answer(self, respond):
            queued = sandbox.queued_answers.take(self.path)
            if queued is not None:
                body = queued.body
                if isinstance(body, Echo):
                    body = body.text(self.command, self.path, self.headers)
                return self._send(queued.status, body)
            url = urlsplit(self.path)
            params = {key: values[0] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
            # Counted from the request read to just before the answer leaves: within the time
            # the client waits, so the count never exceeds what the client had in flight.
            token = sandbox._in_flight.arrived(sandbox.endpoint_of(url.path), self.connection)
            try:
                status, body, delay = respond(url.path, params, self.headers)
                if delay:
                    time.sleep(delay)
            finally:
                sandbox._in_flight.answered(token)
            if body is CLOSE_WITHOUT_ANSWER:
                self.close_connection = True
                return
            self._send(status, body)

        def _send(self, status, body):
            if isinstance(body, LongBody):
                return self._send_long(status, body)
            if isinstance(body, bytes):
                data, content_type = body, "text/plain; charset=utf-8"
            elif isinstance(body, str):
                # surrogatepass: a test may send text no UTF-8 encoder accepts, as a broken provider does.
                data, content_type = body.encode("utf-8", "surrogatepass"), "text/plain; charset=utf-8"
            else:
                data, content_type = json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json"
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def _send_long(self, status, body):
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(body.size))
                self.end_headers()
                for piece in body.pieces():
                    self.wfile.write(piece)
                    body.sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client stopped reading

        def log_message(self, format, *args):
            pass  # the request line carries credentials; each sandbox keeps its own log

    return Handler
