"""LOG_FORMAT: text (the default) or one JSON object a line, redacted the same way."""

import copy
import io
import json
import logging
import logging.config
import uuid

import pytest
from django.conf import settings

from tests.commands import run_command
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_json_logs_are_one_object_a_line_without_secrets(make_order, sandbox):
    completed = make_order(pin="JSONPIN-ABCD-7788")
    broken = make_order()
    sandbox.queue_fault("http500", times=5, reference=broken.provider_referans)

    code, stdout, stderr = run_command("check_pending_orders", "-v", "2", LOG_FORMAT="json", LOG_LEVEL="DEBUG")

    assert code == 0, stderr
    records = [json.loads(line) for line in stderr.splitlines()]  # every line is a JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    by_message = {record["message"]: record for record in records}
    assert by_message[f"order {completed.pk} completed, pin ****7788"]["level"] == "DEBUG"
    warning = next(r for r in records if r["message"].startswith(f"order {broken.pk} check failed"))
    assert warning["level"] == "WARNING" and warning["logger"] == "orders.transitions"
    assert any("sifre=***" in r["message"] for r in records if r["logger"] == "urllib3.connectionpool")
    for secret in (SANDBOX_SIFRE, SANDBOX_KOD, "JSONPIN-ABCD"):
        assert secret not in stderr and secret not in stdout
    assert stdout.startswith("checked=2 completed=1")  # the summary stays a plain line on stdout


def json_logger(stream):
    """A logger wired like settings.LOGGING with LOG_FORMAT=json, writing to `stream`."""
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["stderr"].update(formatter="json", stream=stream)
    config["loggers"] = {"json-test": {"level": "DEBUG", "handlers": ["stderr"], "propagate": False}}
    config["root"] = {"handlers": [], "level": "WARNING"}
    logging.config.dictConfig(config)
    return logging.getLogger("json-test")


def test_json_format_redacts_tracebacks_and_extra_fields():
    stream = io.StringIO()
    secret = f"Json-Sifre-{uuid.uuid4().hex[:6]}"
    try:
        try:
            raise ConnectionError(f"GET /servis/pin_kontrol.php?kod=K1&sifre={secret} failed")
        except ConnectionError:
            extra = {"url": f"/x?sifre={secret}", "pinCode": "P-1234-5678", "request": ValueError(f"kod={secret}")}
            json_logger(stream).exception("request failed", extra=extra)
    finally:
        logging.config.dictConfig(settings.LOGGING)

    (record,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert record["level"] == "ERROR" and record["message"] == "request failed"
    assert "ConnectionError: GET /servis/pin_kontrol.php?kod=***&sifre=*** failed" in record["exc_info"]
    assert record["url"] == "/x?sifre=***"
    assert record["pinCode"] == "****5678"
    assert record["request"] == "kod=***"  # an object: written as its str(), redacted
    assert secret not in stream.getvalue()


@pytest.mark.slow
def test_an_unknown_log_format_is_one_line():
    code, stdout, stderr = run_command("check_pending_orders", "--dry-run", LOG_FORMAT="xml")
    assert code == 2
    assert stderr.strip() == "Configuration error: LOG_FORMAT must be one of text, json, got 'xml'"
