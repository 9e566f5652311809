"""Keeping provider secrets and PINs out of logs, messages and stored columns.

znet puts its password (`sifre`) and dealer code (`kod`) in every request URL, and requests and
urllib3 put URLs into exception texts and debug logs. Three rules:

- `redact` (credential patterns such as `kod=...` / `sifre: ...` / `api-token: ...`, plus the
  registered secret values) is for texts we build or that carry URLs: exception texts, error
  lines, a quoted unreadable answer, log records (the logging filter applies it to every
  record, so a library's own log line cannot leak).
- `mask_secrets` (the registered secret values only) is for what a provider said: its messages
  are delivery data and are stored as said. In Turkish "Kod: ..." is a product code, not our
  dealer code, so the patterns must not touch them. PINs are never masked in stored columns.
- `excerpt` is the one way such a text is cut (a quote, a column, a line of the admin): it masks
  first and cuts after, so a cut can never keep a part of a secret that masking would have caught.

Masking a value only where it appears whole is not enough: a text that was cut (by us, by the
provider, by the answer size limit) may end in the first characters of a secret. Those go too:
a run of 4 or more characters that starts a registered secret is masked where the text ends or
where an ellipsis ("..." or "…") follows it.
"""

import logging
import re
import threading
from typing import overload

REDACTED = "***"

# key=value pairs in URLs, query strings and headers (`api-token: ...`) that carry a credential.
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
    """`text` with only the registered secret values replaced by ***, and the start of one where
    the text was cut (see the module's docstring); everything else exactly as it was. For
    provider texts (messages), which are stored as the provider said them."""
    if not text:
        return text
    text = str(text)
    with _lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    for secret in secrets:
        text = _mask_cut_secret(text, secret)
    return text


ELLIPSIS = "…"
# What follows a text that was cut short: ours ("…") or a provider's ("...").
_CUT_MARKERS = (ELLIPSIS, "...")


def _mask_cut_secret(text: str, secret: str) -> str:
    """`text` with each start of `secret` (at least _MIN_SECRET_LENGTH characters, not all of
    it) that ends where the text ends or where a cut marker follows masked."""
    head = secret[:_MIN_SECRET_LENGTH]
    start = text.find(head)
    while start != -1:
        end = start + _common_prefix_length(text, start, secret)
        if end == len(text) or text.startswith(_CUT_MARKERS, end):
            text = text[:start] + REDACTED + text[end:]
            start += len(REDACTED)
        else:
            start += 1
        start = text.find(head, start)
    return text


def _common_prefix_length(text: str, start: int, secret: str) -> int:
    length = 0
    while length < len(secret) and start + length < len(text) and text[start + length] == secret[length]:
        length += 1
    return length


@overload
def excerpt(text: str, limit: int, *, provider_words: bool = False) -> str: ...
@overload
def excerpt(text: None, limit: int, *, provider_words: bool = False) -> None: ...
def excerpt(text: str | None, limit: int, *, provider_words: bool = False) -> str | None:
    """`text` safe to show, at most `limit` characters long: the one way a provider's reply, a
    message or an error text is quoted or cut. Masked before it is cut (`redact`, or only
    `mask_secrets` for a provider's own words), then cut with "…"; a secret the cut runs
    through leaves none of its characters."""
    if not text:
        return text
    text = mask_secrets(text) if provider_words else redact(text)
    if len(text) <= limit:
        return text
    return mask_secrets(text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS)


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
