"""Keeping provider secrets and PINs out of logs, messages and stored columns.

znet puts its password (`sifre`) and dealer code (`kod`) in every request URL, and requests and
urllib3 put URLs into exception texts and debug logs. Two rules:

- `redact` (credential patterns such as `kod=...` / `sifre: ...`, plus the registered secret
  values) is for texts we build or that carry URLs: exception texts, error lines, log records
  (the logging filter applies it to every record, so a library's own log line cannot leak).
- `mask_secrets` (the registered secret values only) is for what a provider said: its messages
  are delivery data and are stored as said. In Turkish "Kod: ..." is a product code, not our
  dealer code, so the patterns must not touch them. PINs are never masked in stored columns.
"""

import logging
import re
import threading
from typing import overload

REDACTED = "***"

# key=value pairs in URLs, query strings and headers that carry a credential.
_CREDENTIAL_PARAM = re.compile(
    r"(?i)\b(kod|sifre|password|passwd|api[-_]?token|token)(=|:\s*|'\s*:\s*'|\"\s*:\s*\")([^&\s'\"<>,;)}]+)"
)
# Shorter values would mask ordinary words and digits all over the logs; such values are still
# caught in key=value form above.
_MIN_SECRET_LENGTH = 4

_known_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value):
    """Remember a credential so that it is masked wherever it turns up, not only in URLs."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _known_secrets.add(value)
            # The same value as it appears URL-encoded.
            from urllib.parse import quote, quote_plus

            _known_secrets.add(quote(value, safe=""))
            _known_secrets.add(quote_plus(value))


@overload
def redact(text: str) -> str: ...
@overload
def redact(text: None) -> None: ...
def redact(text: str | None) -> str | None:
    """`text` with every credential replaced by ***: key=value / key: value patterns and the
    registered secret values. For URLs, exception texts and log lines."""
    if not text:
        return text
    text = _CREDENTIAL_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", str(text))
    return mask_secrets(text)


@overload
def mask_secrets(text: str) -> str: ...
@overload
def mask_secrets(text: None) -> None: ...
def mask_secrets(text: str | None) -> str | None:
    """`text` with only the registered secret values replaced by ***; everything else exactly as
    it was. For provider texts (messages), which are stored as the provider said them."""
    if not text:
        return text
    text = str(text)
    with _lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def mask_pin(pin):
    """A PIN as it may appear in logs and command output: only its last 4 characters."""
    if not pin:
        return "-"
    if len(pin) < 8:
        return "****"
    return "****" + pin[-4:]


# PINs where a text shows them for what they are: `pin=...`, `"pinCode": "..."`, and znet's
# completed line `OK|2|<pin>|...`. A PIN in free text cannot be told from other words.
_PIN_PARAM = re.compile(r"(?i)\b(pin|pin_?code|pin_code_full)(=|:\s*|'\s*:\s*'|\"\s*:\s*\")([^&\s'\"<>,;)}|]+)")
_ZNET_COMPLETED_LINE = re.compile(r"\b(OK\|2\|)([^|\s'\"]+)")
# Keys whose values are credentials or PINs in structured data (compared lower case, without - and _).
_CREDENTIAL_KEYS = frozenset({"kod", "sifre", "password", "passwd", "apitoken", "token"})
_PIN_KEYS = frozenset({"pin", "pincode", "pincodefull"})


def _mask_unless_masked(value):
    return value if value.startswith("****") or value == "-" else mask_pin(value)


def mask_pins(text):
    """Return `text` with every PIN it recognisably shows masked like mask_pin does."""
    if not text:
        return text
    text = _PIN_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{_mask_unless_masked(m.group(3))}", str(text))
    return _ZNET_COMPLETED_LINE.sub(lambda m: f"{m.group(1)}{_mask_unless_masked(m.group(2))}", text)


def scrub(value):
    """`value` (nested dicts, lists and strings, e.g. an error report) with credentials redacted
    and recognisable PINs masked; values of credential keys become ***, of PIN keys mask_pin()."""
    if isinstance(value, str):
        return mask_pins(redact(value))
    if isinstance(value, dict):
        return {key: _scrub_item(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def _scrub_item(key, value):
    name = str(key).lower().replace("_", "").replace("-", "")
    if name in _CREDENTIAL_KEYS and value not in (None, ""):
        return REDACTED
    if name in _PIN_KEYS and isinstance(value, str) and value:
        return _mask_unless_masked(value)
    return scrub(value)


# The attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_PLAIN_VALUES = (str, int, float, bool, type(None), dict, list, tuple)


class RedactSecretsFilter(logging.Filter):
    """Logging filter (on the handlers) that redacts the final message, any traceback and the
    `extra=` fields (the JSON format writes those out as they are)."""

    def filter(self, record):
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_RECORD_ATTRIBUTES:
                if not isinstance(value, _PLAIN_VALUES):
                    value = str(value)  # e.g. Django's `request`: JSON would write its str() unredacted
                setattr(record, name, _scrub_item(name, value))
        return True
