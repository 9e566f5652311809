"""Reading a provider's JSON answer: the pieces the apstore and internal parsers share. Pure
functions that never raise: what cannot be read comes back as a "malformed answer: ..." text
for the parser to turn into its result."""

import json
import re
from collections.abc import Iterable
from typing import Any

from providers.base import CheckResult, CheckState
from providers.pins import pin_of, pin_of_codes
from providers.redaction import excerpt

_MAX_QUOTED = 80
# Blanks, "_" and "-" inside a status word do not change it: "in progress", "in_progress",
# "In-Progress" are all "inprogress".
_WORD_JOINERS = re.compile(r"[\s_-]+")
_CURRENCY_CODE = re.compile(r"[A-Za-z]{3}")


def load_json(body: bytes | str) -> tuple[Any, str | None]:
    """(JSON value, None), or (None, why it cannot be read)."""
    value, _, problem = _parse(body)
    return value, problem


def load_json_object(body: bytes | str) -> tuple[Any, str | None]:
    """(JSON object, None), or (None, why it cannot be read): any other JSON value is refused."""
    value, text, problem = _parse(body)
    if problem:
        return None, problem
    if not isinstance(value, dict):
        return None, f"malformed answer: not a JSON object: {quote(text)}"
    return value, None


def _parse(body):
    """(JSON value, the text it was read from, None), or (None, text, why it cannot be read)."""
    if isinstance(body, str):
        text = body
    else:
        try:
            text = bytes(body).decode("utf-8")
        except (UnicodeDecodeError, TypeError):
            return None, "", "malformed answer: not valid UTF-8"
    text = text.lstrip("\ufeff").strip()
    try:
        return json.loads(text), text, None
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None, text, f"malformed answer: not JSON: {quote(text)}"


def error_message(body: bytes) -> str:
    """What an error answer (HTTP 4xx/5xx) says: its message, note or desc (a NestJS-style
    list of messages joined), or "" when it says nothing readable."""
    answer, problem = load_json(body)
    if problem or not isinstance(answer, dict):
        return ""
    listed = answer.get("message")
    if isinstance(listed, list):
        return "; ".join(part.strip() for part in listed if isinstance(part, str) and part.strip())
    return reason_in(answer, ("note", "message", "desc"))


def id_text(value: object) -> str | None:
    """An id as text (a JSON number or string, stripped), or None for anything else or blank."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return text or None


def word_in(record: dict, fields: Iterable[str]) -> str | None:
    """The status word of the first of `fields` that holds one, as said but trimmed (a number
    counts as its digits); None when none does."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def word_key(word: str) -> str:
    """A status word as the word tables spell it: lower case, without blanks, "_" or "-"."""
    return _WORD_JOINERS.sub("", word.lower())


def reason_in(record: dict, fields: Iterable[str]) -> str:
    """The provider's text: the first of `fields` that says something. `replay_api` (apstore)
    is a list of strings, joined with "; "; every other field a string."""
    for field in fields:
        value = record.get(field)
        if field == "replay_api" and isinstance(value, list):
            parts = [part.strip() for part in value if isinstance(part, str) and part.strip()]
            value = "; ".join(parts)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def pin_in(record: dict, fields: Iterable[str]) -> str | None:
    """The PIN in the first of `fields` that holds one: a text (several codes one a line are all
    kept, newline-separated), a number (its digits) or a list of codes; None when no field does
    ("", "-" and " - " are no PIN)."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        pin = pin_of(value) if isinstance(value, str) else pin_of_codes(value) if isinstance(value, list) else None
        if pin is not None:
            return pin
    return None


def currency_in(*records: dict) -> str | None:
    """The currency code (3 letters, upper-cased) under `currency` in the first record that has one."""
    for record in records:
        value = record.get("currency")
        if isinstance(value, str) and _CURRENCY_CODE.fullmatch(value.strip()):
            return value.strip().upper()
    return None


def order_result(state: CheckState, message: str, pin: str | None, no_reason_message: str) -> CheckResult:
    """The result of an order the answer gives a known state: a completed order carries its PIN,
    a failed one the provider's reason, if any (`no_reason_message`, the monitor's words, as its
    note when the provider gave none)."""
    if state == CheckState.COMPLETED:
        return CheckResult(state, pin=pin, message=message)
    if state == CheckState.FAILED and not message:
        return CheckResult(state, note=no_reason_message)
    return CheckResult(state, message=message)


def unknown_status(word: str, message: str) -> CheckResult:
    """The result of an order whose status `word` the parser does not know: still in progress
    (never final, never an error that times the order out), the word kept as said for
    monitor_health; `message` is only what the provider said."""
    return CheckResult(CheckState.IN_PROGRESS, message=message, unknown_status=word)


def no_status(shown: object) -> CheckResult:
    """The result of an order whose entry holds no status word at all (missing, blank, a list)."""
    return CheckResult(CheckState.MALFORMED, message=f"malformed answer: no order status word: {quote(shown)}")


def quote(value: object) -> str:
    """A value for a message: short, secrets masked before it is cut, and never the repr() of a
    nested value (it may be very deep)."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, int | float):  # bool is an int
        text = repr(value)
    else:
        text = f"<{type(value).__name__}>"
    return repr(excerpt(text, _MAX_QUOTED))
