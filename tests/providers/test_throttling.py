"""HTTP 429 pauses the integration's gate for the Retry-After time: the retry waits it out, and
a Retry-After header of any form is read without raising."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budgets.budget import Budget
from budgets.limiter import LocalGate
from providers.addresses import build_session
from providers.http import HttpLimits, ProviderHTTPError, http_get, retry_after_seconds


@pytest.fixture
def too_many_once():
    """A server answering 429 with Retry-After: 1 to its first request, then 200; it records arrivals."""
    arrivals = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            arrivals.append(time.monotonic())
            first = len(arrivals) == 1
            self.send_response(429 if first else 200)
            if first:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/status", arrivals
    server.shutdown()
    server.server_close()


def test_a_429_pauses_the_gate_for_retry_after_and_the_retry_then_gets_its_answer(too_many_once):
    url, arrivals = too_many_once
    session = build_session(1)
    session.request_gate = LocalGate(Budget(100.0, 2))
    answer = http_get(session, url, deadline=time.monotonic() + 10, limits=HttpLimits.from_settings())
    assert answer.body == b"ok"
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.95


def test_a_429_with_no_start_before_the_deadline_is_throttled_not_an_order_error(too_many_once):
    url, arrivals = too_many_once
    session = build_session(1)
    session.request_gate = LocalGate(Budget(100.0, 2))
    with pytest.raises(ProviderHTTPError) as raised:
        http_get(session, url, deadline=time.monotonic() + 0.5, limits=HttpLimits.from_settings())
    assert raised.value.throttled and len(arrivals) == 1


def test_retry_after_forms():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("99999") == 3600.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date past: at once


@given(st.text(max_size=40))
def test_any_retry_after_header_is_a_bounded_delay_or_none(value):
    seconds = retry_after_seconds(value)
    assert seconds is None or 0.0 <= seconds <= 3600.0
