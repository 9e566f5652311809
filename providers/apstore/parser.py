"""Reading apstore (barakat) JSON answers. Pure functions: bytes in, results out, never an exception.

Batch status (client/api/check), every shape the platform's barakat adapters read:
  {"status": "OK", "data": [{"order_id": 7, "order_uuid": "...", "status": "accept", "pin": ..}, ..]}
  {"data": [...]}                                 no top-level status: read from the list
  {"status": "<anything else>", "message": ..}    the query failed (not the orders)
  An entry names its order by `order_uuid`, `order_id` or `id`; its status word (any case) is
  under `status` or `state`, its PIN under `pin`, `code`, `voucher` or `serial` ("" and "-"
  are no PIN; several codes one a line are all kept), its text under `replay_api` (a list of
  strings), `note`, `message` or `desc`. A word not in _STATES keeps the order in progress.
Place order (client/api/newOrder/..):
  {"status": "OK", "data": {"order_id": 7, "status": "wait", "price": 2.5, ..}}   accepted
  {"status": "OK", "data": {"status": "reject", "message": ..}}   refused inside an OK
  {"status": "ERROR", "message": "order_uuid already used"}   a repeated order_uuid: apstore
                                                               already has that order
"""

import math
import re
import uuid

from providers.base import CheckResult, CheckState, PlaceResult, PlaceState, not_mentioned
from providers.json_answers import (
    currency_in,
    id_text,
    load_json_object,
    no_status,
    order_result,
    pin_in,
    quote,
    reason_in,
    unknown_status,
    word_in,
    word_key,
)
from providers.place_answers import amount_of, says_used_before

# Status words (json_answers.word_key spelling: lower case, no blanks, "_" or "-").
_STATES = {
    # `accept` is completed, as the platform's Django side reads it (its NestJS side reads it as
    # pending): read as pending, a delivered order would wait out the 24 h with its PIN unread.
    **dict.fromkeys(("success", "ok", "done", "complete", "completed", "accept"), CheckState.COMPLETED),
    **dict.fromkeys(("reject", "rejected", "failed", "fail", "error", "cancelled", "canceled"), CheckState.FAILED),
    **dict.fromkeys(
        ("wait", "pending", "processing", "inprogress", "queued", "queue", "accepted"), CheckState.IN_PROGRESS
    ),
}
_STATUS_FIELDS = ("status", "state")
_PIN_FIELDS = ("pin", "code", "voucher", "serial")
_REASON_FIELDS = ("replay_api", "note", "message", "desc")
_ORDER_ID_FIELDS = ("order_id", "id")
_UUID_TEXT = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

NO_REASON_MESSAGE = "rejected by the provider (no reason given)"
_NO_STATUS_MESSAGE = "malformed answer: no 'status' text"


def is_uuid_reference(reference):
    """Our own order UUID (32 hex digits or the dashed form), as opposed to a provider order id."""
    return isinstance(reference, str) and _UUID_TEXT.fullmatch(reference.strip()) is not None


def parse_batch_status(body, references):
    """{reference: CheckResult} for every reference asked about, whatever the body holds."""
    answer, problem = load_json_object(body)
    if problem:
        return _for_all(references, CheckResult(CheckState.MALFORMED, message=problem))
    status = answer.get("status")
    if status is not None and not isinstance(status, str):
        return _for_all(references, CheckResult(CheckState.MALFORMED, message=_NO_STATUS_MESSAGE))
    if status is not None and not _is_ok(status):
        return _for_all(references, _provider_error(answer))
    entries = answer.get("data")
    if not isinstance(entries, list):
        missing = "no list in 'data'" if status is not None else "no 'status' text and no list in 'data'"
        return _for_all(references, CheckResult(CheckState.MALFORMED, message=f"malformed answer: {missing}"))
    by_key = _index_entries(entries)
    results = {}
    for reference in references:
        entry = by_key.get(_match_key(reference))
        results[reference] = _entry_result(entry) if entry is not None else not_mentioned()
    return results


def parse_place_answer(body):
    """The answer to newOrder. Accepted only with the provider's order id; refused when the
    answer says no, at the top level or in `data` under a top-level "OK"; an answer we cannot
    read leaves it unknown whether the provider took the order. A price in the answer is what
    the order cost (in the answer's `currency`, else the one the order's cost is kept in)."""
    answer, problem = load_json_object(body)
    if problem or not isinstance(answer.get("status"), str):
        return PlaceResult(PlaceState.UNKNOWN, message=problem or _NO_STATUS_MESSAGE)
    if not _is_ok(answer["status"]):
        return _refusal(_provider_error(answer).message)
    data = answer.get("data")
    if not isinstance(data, dict):
        return PlaceResult(PlaceState.UNKNOWN, message="malformed answer: 'OK' without an order_id")
    word = word_in(data, _STATUS_FIELDS)
    said = reason_in(data, _REASON_FIELDS) or reason_in(answer, _REASON_FIELDS)
    if word is not None and _STATES.get(word_key(word)) == CheckState.FAILED:
        return _refusal(said or f"{NO_REASON_MESSAGE}: {word}", said)
    order_id = _order_id_of(data)
    if order_id is None:
        return PlaceResult(PlaceState.UNKNOWN, message="malformed answer: 'OK' without an order_id")
    message = said or f"accepted as order {order_id}" + (f" ({word})" if word else "")
    cost = amount_of(data.get("price"))
    currency = currency_in(data, answer) if cost is not None else None
    return PlaceResult(
        PlaceState.ACCEPTED, reference=order_id, message=message, cost_amount=cost, cost_currency=currency
    )


def _refusal(message, said=None):
    """`said`: the provider's own words, when `message` is not only them."""
    state = PlaceState.DUPLICATE if says_used_before(message) else PlaceState.REFUSED
    return PlaceResult(state, message=message, provider_text=message if said is None else said)


def parse_balance(body):
    """The balance from client/api/profile (top level or under 'data'), or None if unreadable."""
    answer, problem = load_json_object(body)
    if problem:
        return None
    data = answer.get("data")
    value = answer.get("balance", data.get("balance") if isinstance(data, dict) else None)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        balance = float(value)
    except (ValueError, OverflowError):
        return None
    return balance if math.isfinite(balance) else None


def _is_ok(status):
    return status.strip().upper() == "OK"


def _provider_error(answer):
    fallback = f"provider answered status {quote(answer['status'])}"
    return CheckResult(CheckState.PROVIDER_ERROR, message=reason_in(answer, _REASON_FIELDS) or fallback)


def _index_entries(entries):
    """{match key: entry}; an entry is found by its order_uuid and by its order id (`order_id`,
    else `id`: an `id` beside an `order_id` may be a row number, never another order's id). The
    first entry wins when the provider lists one order twice."""
    by_key: dict[tuple[str, str], dict] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for key in (_match_key(entry.get("order_uuid")), _match_key(_order_id_of(entry))):
            if key is not None:
                by_key.setdefault(key, entry)
    return by_key


def _order_id_of(record):
    """The provider's order id of an entry or place answer: `order_id`, else `id`; None if neither."""
    return next(filter(None, (id_text(record.get(field)) for field in _ORDER_ID_FIELDS)), None)


def _match_key(value):
    """Ids compare as text; UUIDs compare as UUIDs (dashes and letter case do not matter)."""
    text = id_text(value)
    if text is None:
        return None
    return ("uuid", uuid.UUID(text).hex) if is_uuid_reference(text) else ("id", text)


def _entry_result(entry):
    word = word_in(entry, _STATUS_FIELDS)
    if word is None:
        return no_status(entry.get("status", entry.get("state")))
    message = reason_in(entry, _REASON_FIELDS)
    state = _STATES.get(word_key(word))
    if state is None:
        return unknown_status(word, message)
    return order_result(state, message, pin_in(entry, _PIN_FIELDS), NO_REASON_MESSAGE)


def _for_all(references, result):
    return dict.fromkeys(references, result)
