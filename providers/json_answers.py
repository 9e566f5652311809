"""Reading a provider's JSON answer: the pieces the apstore and internal parsers share. Pure
functions that never raise: what cannot be read comes back as a "malformed answer: ..." text
for the parser to turn into its result."""

import json
from collections.abc import Iterable
from typing import Any

from providers.base import CheckResult, CheckState
from providers.redaction import excerpt

_MAX_QUOTED = 80
# A PIN field holding one of these carries no PIN.
_NO_PIN_VALUES = {"", "-"}


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


def id_text(value: object) -> str | None:
    """An id as text (a JSON number or string, stripped), or None for anything else or blank."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return text or None


def first_text(record: dict, fields: Iterable[str]) -> str:
    """The first of `fields` that holds a non-blank string, stripped; "" when none does."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def pin_in(record: dict, fields: Iterable[str]) -> str | None:
    """The PIN in the first of `fields` that holds one (a number counts as its digits); None
    when no field does ("" and "-" are no PIN)."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip() not in _NO_PIN_VALUES:
            return value.strip()
    return None


def order_result(state: CheckState, message: str, pin: str | None, no_reason_message: str) -> CheckResult:
    """The result of an order the answer gives a known state: a completed order carries its PIN,
    a failed one a reason (`no_reason_message` when the provider gave none)."""
    if state == CheckState.COMPLETED:
        return CheckResult(state, pin=pin, message=message)
    if state == CheckState.FAILED:
        return CheckResult(state, message=message or no_reason_message)
    return CheckResult(state, message=message)


def unknown_status(shown: object) -> CheckResult:
    """The result of an order whose status word the parser does not know."""
    return CheckResult(CheckState.MALFORMED, message=f"malformed answer: unknown order status {quote(shown)}")


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
