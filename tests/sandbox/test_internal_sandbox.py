"""manage.py internal_sandbox: a fake tenant another process can place orders with and ask about,
that answers only the configured token and tenant host and never prints the token."""

import re
import signal
import uuid

import requests

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
