"""`manage.py znet_sandbox` / `apstore_sandbox` serve their fake provider until Ctrl-C."""

import re
import signal

import pytest
import requests

from sandbox.apstore import UNAUTHORIZED_ANSWER
from sandbox.znet import UNKNOWN_REFERENCE_LINE
from tests.commands import start_command

pytestmark = pytest.mark.slow  # separate processes


def serve(*arguments):
    """(process, the base URL it printed, the line it printed)."""
    process = start_command(*arguments, "--port", "0")
    line = process.stdout.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)/", line)
    assert match, (line, process.stderr.read() if process.poll() is not None else "")
    return process, match[1], line


def stop(process):
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    return stdout + stderr


def test_the_znet_sandbox_serves_with_the_given_credentials_and_never_prints_them():
    process, base_url, line = serve("znet_sandbox", "--kod", "bayi-77", "--sifre", "Sifre-Secret-7731")
    try:
        answer = requests.get(
            f"{base_url}/servis/pin_kontrol.php",
            params={"kod": "bayi-77", "sifre": "Sifre-Secret-7731", "tahsilat_api_islem_id": "nope"},
            timeout=10,
        )
        assert answer.text == UNKNOWN_REFERENCE_LINE
        assert line.startswith("ZnetSandbox on http://127.0.0.1:") and line.rstrip().endswith(
            "/servis/ (Ctrl-C stops it)"
        )
    finally:
        output = stop(process)
    assert "Sifre-Secret-7731" not in line + output


def test_the_apstore_sandbox_serves_with_the_given_token_and_never_prints_it():
    process, base_url, line = serve("apstore_sandbox", "--token", "Token-Secret-5521")
    try:
        refused = requests.get(f"{base_url}/client/api/profile", headers={"api-token": "wrong"}, timeout=10)
        accepted = requests.get(
            f"{base_url}/client/api/profile", headers={"api-token": "Token-Secret-5521"}, timeout=10
        )
        assert (refused.status_code, refused.json()) == (401, UNAUTHORIZED_ANSWER)
        assert accepted.status_code == 200 and accepted.json()["currency"] == "USD"
        assert line.startswith("ApstoreSandbox on http://127.0.0.1:")
    finally:
        output = stop(process)
    assert "Token-Secret-5521" not in line + output
