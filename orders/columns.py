"""Values written to the live table must be storable and fit its declared column sizes
(orders.models.Order).

Messages are shortened with an ellipsis; a PIN is never shortened (orders.transitions holds an
order whose PIN does not fit instead of completing it with a cut PIN).

A provider's answer may hold characters no PostgreSQL text column takes: NUL (`\x00`, valid
UTF-8, and a JSON `\u0000`) and lone UTF-16 surrogates (a JSON `\ud800`; text decoded with
`surrogateescape`). The driver refuses the whole write for them, and not with a database error.
`storable_check_result` / `storable_place_result` replace each one by U+FFFD before anything
is written, and say so in a note for last_check_error; a PIN is never altered.
"""

import dataclasses
import re
from typing import Any, TypeVar

from django.db.models import Field

from orders.models import Order
from providers.base import CheckResult, CheckState, PlaceResult
from providers.http import within_answer_limit
from providers.redaction import ELLIPSIS, excerpt

__all__ = [
    "ELLIPSIS",
    "fit",
    "fits",
    "max_length",
    "storable",
    "storable_check_result",
    "storable_place_result",
    "unstorable_characters",
]

REPLACEMENT = "\ufffd"
_NUL = "\x00"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

R = TypeVar("R", CheckResult, PlaceResult)


def max_length(field_name: str) -> int | None:
    """The declared size of an Order field, None for text columns."""
    field = Order._meta.get_field(field_name)
    assert isinstance(field, Field), f"{field_name} is not a column of product_orders"
    return field.max_length


def fits(field_name: str, value: str | None) -> bool:
    size = max_length(field_name)
    return value is None or size is None or len(value) <= size


def fit(field_name: str, value: str | None) -> str | None:
    """`value` shortened to the size of `field_name`'s column, ending in an ellipsis when cut; the
    registered secrets are masked before it is cut (providers.redaction.excerpt)."""
    size = max_length(field_name)
    if value is None or size is None:
        return value
    return excerpt(value, size, provider_words=True)


def storable(value: str | None) -> str | None:
    """`value` with every character PostgreSQL cannot store (NUL, a lone surrogate) replaced by U+FFFD."""
    if not value:
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def unstorable_characters(value: str | None) -> list[str]:
    """What in `value` PostgreSQL cannot store, named for an operator: "NUL", "lone surrogate"."""
    found = set(_UNSTORABLE.findall(value or ""))
    kinds = ["NUL"] if _NUL in found else []
    return kinds + (["lone surrogate"] if found - {_NUL} else [])


def storable_check_result(result: CheckResult, max_answer_bytes: int) -> tuple[CheckResult, str | None]:
    """(`result` with every text storable and its message at most `max_answer_bytes`, the
    note for last_check_error when characters were replaced, else None). A completed answer
    whose PIN holds such characters becomes a malformed answer, the PIN left out of it: a PIN
    with a character replaced would be a wrong PIN, and the next check may get a clean one."""
    pin_problem = unstorable_characters(result.pin)
    if pin_problem:
        message = f"malformed answer: the PIN holds characters the database cannot store ({', '.join(pin_problem)})"
        return CheckResult(CheckState.MALFORMED, message=message), None
    result = dataclasses.replace(result, message=within_answer_limit(result.message, max_answer_bytes))
    return _storable_texts(result, keep=("pin",))


def storable_place_result(result: PlaceResult, max_answer_bytes: int) -> tuple[PlaceResult, str | None]:
    """Like storable_check_result, for a place answer. The provider's order id is never altered:
    one that cannot be stored is left out (status checks ask by our own reference)."""
    reference_problem = unstorable_characters(result.reference)
    result = dataclasses.replace(result, message=within_answer_limit(result.message, max_answer_bytes))
    if reference_problem:
        result = dataclasses.replace(result, reference=None)
    stored, note = _storable_texts(result)
    if reference_problem:
        kinds = ", ".join(reference_problem)
        left_out = f"the provider's order id held characters the database cannot store ({kinds}): not stored"
        note = f"{note}; {left_out}" if note else left_out
    return stored, note


def _storable_texts(result: R, keep: tuple[str, ...] = ()) -> tuple[R, str | None]:
    """`result` with storable() applied to each of its text fields but `keep`, and the note."""
    changes: dict[str, Any] = {}
    kinds: list[str] = []
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        if field.name in keep or not isinstance(value, str):
            continue
        found = unstorable_characters(value)
        if found:
            changes[field.name] = storable(value)
            kinds += [kind for kind in found if kind not in kinds]
    if not changes:
        return result, None
    note = f"the answer held characters the database cannot store ({', '.join(kinds)}): each replaced by U+FFFD"
    return dataclasses.replace(result, **changes), note
