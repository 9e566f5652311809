"""What the fake provider servers (znet, apstore, internal) share: a threaded HTTP server on 127.0.0.1
that asks its sandbox for each answer, serves the sandbox's request log at GET /_sandbox/log,
and never writes a request line (it carries credentials) to any log."""

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# A body a sandbox may answer with: the server reads the request, then closes the connection
# without a word (a provider that took the request and died, or a reset on the way back).
CLOSE_WITHOUT_ANSWER = object()


class _ThreadingServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many runs x workers connect at once; with the default backlog of 5 the kernel drops SYNs
    # and clients wait a second to retry, which would show up as fake provider latency.
    request_queue_size = 256


class SandboxServer:
    """Base of a fake provider. Subclasses set `request_log` and `_lock` and implement
    respond(path, params, headers) -> (HTTP status, body: text or JSON-able, delay seconds) for
    GET requests, and respond_post (same arguments, the body is not read) if they take POSTs."""

    _server = None
    _thread = None

    def respond(self, path, params, headers):
        raise NotImplementedError

    def respond_post(self, path, params, headers):
        return 405, "method not allowed", 0

    def start(self, host="127.0.0.1", port=0):
        self._server = _ThreadingServer((host, port), _handler_for(self))
        # A short poll interval lets stop() return at once instead of after up to half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def wait(self):
        """Block until the server stops (Ctrl-C interrupts the wait)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def serve_from_command(self, command, host, port, endpoints_path):
        """Serve until Ctrl-C, for a sandbox management command. Prints the real
        address (--port 0 picks a free one), never the credentials the sandbox accepts."""
        from django.core.management.base import CommandError

        try:
            self.start(host, port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None
        command.stdout.write(f"{type(self).__name__} on {self.base_url}{endpoints_path} (Ctrl-C stops it)")
        command.stdout.flush()
        try:
            self.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()


def generate_pin():
    raw = secrets.token_hex(8).upper()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def rate(text):
    """argparse type: a share between 0 and 1."""
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


def _handler_for(sandbox):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two sends: with Nagle's algorithm the body would wait for
        # the client's delayed ACK (about 40 ms) on kept-alive connections.
        disable_nagle_algorithm = True

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/_sandbox/log":
                with sandbox._lock:
                    return self._send(200, list(sandbox.request_log))
            self._answer(sandbox.respond)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))  # parameters are in the URL
            self._answer(sandbox.respond_post)

        def _answer(self, respond):
            url = urlsplit(self.path)
            params = {key: values[0] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
            status, body, delay = respond(url.path, params, self.headers)
            if delay:
                time.sleep(delay)
            if body is CLOSE_WITHOUT_ANSWER:
                self.close_connection = True
                return
            self._send(status, body)

        def _send(self, status, body):
            if isinstance(body, str):
                data, content_type = body.encode("utf-8"), "text/plain; charset=utf-8"
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

        def log_message(self, format, *args):
            pass  # the request line carries credentials; each sandbox keeps its own log

    return Handler
