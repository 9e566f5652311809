"""manage.py internal_sandbox: a fake tenant another process can place orders with and ask about,
that answers only the configured token and tenant host and never prints the token; another
process (the demo) reads the deliveries of its events over HTTP."""

import re
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from sandbox.internal import InternalSandbox, SandboxConfig
from tests.commands import start_command

TOKEN = "tnt-cmd-58e2a9"


def test_the_command_serves_a_tenant_until_interrupted():
    process = start_command(
        "internal_sandbox", "--port", "0", "--token", TOKEN, "--tenant-host", "shop2.example", "--approve-at-once"
    )
    try:
        first_line = process.stdout.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", first_line).group(0)
        headers = {"api-token": TOKEN, "X-Tenant-Host": "shop2.example"}
        order_uuid = str(uuid.uuid4())

        placed = requests.post(
            f"{base_url}/client/api/newOrder/12/params",
            params={"qty": 1, "order_uuid": order_uuid},
            headers=headers,
            timeout=5,
        )
        checked = requests.get(
            f"{base_url}/client/api/check", params={"orders": order_uuid, "uuid": 1}, headers=headers, timeout=5
        )
        refused = requests.get(f"{base_url}/client/api/check", params={"orders": order_uuid, "uuid": 1}, timeout=5)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)

    assert (placed.status_code, placed.json()["status"]) == (201, "accept")
    assert checked.json()[0]["pin"] == placed.json()["pin"]
    assert refused.status_code == 401
    assert TOKEN not in first_line + stdout + stderr


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def test_the_deliveries_of_its_events_are_read_over_http():
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/internal/x/"
    tenant = InternalSandbox(SandboxConfig(token=TOKEN, webhook_url=url, webhook_secret="a" * 48)).start()
    try:
        order_uuid = str(uuid.uuid4())
        tenant.finish_in(tenant.add_order(order_uuid), 0.0)
        for _ in range(100):
            deliveries = requests.get(f"{tenant.base_url}/_sandbox/webhooks", timeout=5).json()
            if deliveries:
                break
            time.sleep(0.05)
    finally:
        tenant.stop()
        receiver.shutdown()

    assert [(d["order_uuid"], d["status"], d["answer"]) for d in deliveries] == [(order_uuid, "accept", 200)]
    assert "a" * 48 not in str(deliveries)
