"""Sentry error reports and Crons check-ins, against a fake Sentry on 127.0.0.1 that records
every envelope the SDK sends: no provider secret and no unmasked PIN may be in them."""

import gzip
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config.sentry import scrub_breadcrumb
from orders.models import ExternalStatus, Order
from tests.commands import run_command
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE

pytestmark = pytest.mark.django_db(transaction=True)

PIN = "PIN-SENTRY-XYZW-4321"


class FakeSentry:
    """Accepts envelope POSTs (/api/<project>/envelope/) and keeps their decoded bodies."""

    def __init__(self):
        self.bodies: list[bytes] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                recorder.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://fakepublickey@127.0.0.1:{self.server.server_address[1]}/1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def items(self):
        """(item header, payload) of every envelope item received."""
        items = []
        for body in self.bodies:
            lines = body.split(b"\n")[1:]  # the first line is the envelope header
            for header, payload in zip(lines[::2], lines[1::2], strict=False):
                items.append((json.loads(header), json.loads(payload)))
        return items

    def of_type(self, item_type):
        return [payload for header, payload in self.items() if header.get("type") == item_type]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_sentry():
    server = FakeSentry()
    yield server
    server.stop()


# A bug report as it could happen in production: a library's error quoting the request URL
# (znet's credentials in its query string) and the provider's answer (the PIN), an HTTP
# breadcrumb of that request, and an exception whose text repeats both.
ERROR_REPORT = """
import logging, requests, sentry_sdk
from django.core.management import call_command
call_command("check_pending_orders")
url = "{base}/servis/pin_kontrol.php?kod={kod}&sifre={sifre}&tahsilat_api_islem_id={ref}"
requests.get(url, timeout=5)
logging.getLogger("orders.checking").error("provider failed for %s: answer %r", url, "OK|2|{pin}|done")
try:
    raise RuntimeError(f"request to {{url}} failed, pin={pin}")
except RuntimeError:
    sentry_sdk.capture_exception()
assert sentry_sdk.flush(timeout=10) is not False
"""


@pytest.mark.slow
def test_reports_reach_sentry_scrubbed_with_a_check_in_per_run(fake_sentry, make_order, sandbox):
    completed = make_order(pin=PIN)
    broken = make_order()
    sandbox.queue_fault("error_line", times=5, reference=broken.provider_referans)

    code, stdout, stderr = run_command("check_pending_orders", SENTRY_DSN=fake_sentry.dsn, LOG_LEVEL="DEBUG")
    assert code == 0, stderr
    assert "checked=2 completed=1" in stdout
    assert Order.objects.get(pk=completed.pk).external_status == ExternalStatus.DONE

    check_ins = fake_sentry.of_type("check_in")
    assert [c["status"] for c in check_ins] == ["in_progress", "ok"]
    assert {c["monitor_slug"] for c in check_ins} == {"check-pending-orders"}
    assert check_ins[0]["monitor_config"]["schedule"] == {"type": "crontab", "value": "*/5 * * * *"}
    assert check_ins[1]["check_in_id"] == check_ins[0]["check_in_id"]

    reference = uuid.uuid4().hex
    sandbox.add_order(reference, pin=PIN, checks_until_final=1)
    script = ERROR_REPORT.format(base=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE, ref=reference, pin=PIN)
    code, stdout, stderr = run_command("shell", "-c", script, SENTRY_DSN=fake_sentry.dsn)
    assert code == 0, stderr

    everything = b"\n".join(fake_sentry.bodies).decode()
    for secret in (SANDBOX_SIFRE, SANDBOX_KOD, PIN, PIN[4:]):
        assert secret not in everything
    events = fake_sentry.of_type("event")
    assert len(events) == 2
    logged, captured = events
    # Scrubbed, not dropped: the reports still say what happened.
    assert "kod=***&sifre=***" in logged["logentry"]["formatted"]
    assert "OK|2|****4321|done" in logged["logentry"]["formatted"]
    assert captured["exception"]["values"][0]["value"].endswith("failed, pin=****4321")
    http = [b for b in captured["breadcrumbs"]["values"] if b.get("type") == "http"]
    assert http[-1]["data"]["http.query"] == f"kod=***&sifre=***&tahsilat_api_islem_id={reference}"
    frames = captured["exception"]["values"][0]["stacktrace"]["frames"]
    assert frames and all("vars" not in frame for frame in frames)  # no frame locals at all
    assert len(fake_sentry.of_type("check_in")) == 4  # the shell's run checked in too


@pytest.mark.slow
def test_a_bad_dsn_is_one_line_without_the_dsn(tmp_path):
    code, stdout, stderr = run_command("check_pending_orders", SENTRY_DSN="not-a-dsn-secretkey")
    assert code == 2
    assert stderr.strip() == "Configuration error: SENTRY_DSN is not a Sentry DSN (https://key@host/project-id)"


@pytest.mark.slow
def test_a_run_that_fails_checks_in_as_error(fake_sentry):
    unreachable = "postgres://postgres@127.0.0.1:9/nowhere"  # connection refused
    code, stdout, stderr = run_command("check_pending_orders", SENTRY_DSN=fake_sentry.dsn, DATABASE_URL=unreachable)
    assert code == 1 and "database unavailable" in stderr
    assert [c["status"] for c in fake_sentry.of_type("check_in")] == ["in_progress", "error"]


def test_breadcrumbs_are_scrubbed_when_recorded():
    crumb = {
        "type": "http",
        "category": "httplib",
        "data": {
            "url": "http://znet/servis/pin_kontrol.php",
            "http.query": "kod=K-77&sifre=S-88&tahsilat_api_islem_id=9",
        },
    }
    assert scrub_breadcrumb(crumb, {})["data"]["http.query"] == "kod=***&sifre=***&tahsilat_api_islem_id=9"
    log_crumb = {"category": "orders.checking", "message": "answer 'OK|2|ABCD-EFGH-4321|ok'", "level": "info"}
    assert scrub_breadcrumb(log_crumb, {})["message"] == "answer 'OK|2|****4321|ok'"
