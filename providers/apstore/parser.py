"""Reading apstore (barakat) JSON answers. Pure functions: bytes in, results out, never an exception.

Batch status (client/api/check):
  {"status": "OK", "data": [{"order_id": 7, "order_uuid": "...", "status": "accept", "pin": ..}, ..]}
  {"status": "<anything else>", "message": ..}    the query failed (not the orders)
Place order (client/api/newOrder/..):
  {"status": "OK", "data": {"order_id": 7, "status": "wait", ..}}
  {"status": "ERROR", "message": "order_uuid already used"}   a repeated order_uuid: apstore
                                                               already has that order
"""

import math
import re
import uuid

from providers.base import CheckResult, CheckState, PlaceResult, PlaceState, not_mentioned
from providers.json_answers import first_text, id_text, load_json_object, order_result, pin_in, quote, unknown_status

_STATES = {
    **dict.fromkeys(("accept", "success", "done"), CheckState.COMPLETED),
    **dict.fromkeys(("reject", "failed", "cancelled"), CheckState.FAILED),
    **dict.fromkeys(("wait", "pending", "processing"), CheckState.IN_PROGRESS),
}
_UUID_TEXT = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# A refusal that names the order_uuid as already used (taken, existing, duplicate): the order
# placed under it before is apstore's, so it is followed, never failed.
_NAMES_ORDER_UUID = re.compile(r"order[ _-]?uuid", re.IGNORECASE)
_SAYS_USED = re.compile(r"\b(already|duplicate|exists|taken)\b", re.IGNORECASE)

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
    if not _has_status(answer):
        return _for_all(references, CheckResult(CheckState.MALFORMED, message=_NO_STATUS_MESSAGE))
    if not _status_is_ok(answer):
        return _for_all(references, _provider_error(answer))
    entries = answer.get("data")
    if not isinstance(entries, list):
        return _for_all(references, CheckResult(CheckState.MALFORMED, message="malformed answer: no list in 'data'"))
    by_key = _index_entries(entries)
    results = {}
    for reference in references:
        entry = by_key.get(_match_key(reference))
        results[reference] = _entry_result(entry) if entry is not None else not_mentioned()
    return results


def parse_place_answer(body):
    """The answer to newOrder. Accepted only with the provider's order id; an answer we cannot
    read leaves it unknown whether the provider took the order."""
    answer, problem = load_json_object(body)
    if problem or not _has_status(answer):
        return PlaceResult(PlaceState.UNKNOWN, message=problem or _NO_STATUS_MESSAGE)
    if not _status_is_ok(answer):
        message = _provider_error(answer).message
        state = PlaceState.DUPLICATE if _is_duplicate_uuid(message) else PlaceState.REFUSED
        return PlaceResult(state, message=message)
    data = answer.get("data")
    order_id = id_text(data.get("order_id")) if isinstance(data, dict) else None
    if order_id is None:
        return PlaceResult(PlaceState.UNKNOWN, message="malformed answer: 'OK' without an order_id")
    word = data.get("status")
    message = _message_of(data) or f"accepted as order {order_id}" + (f" ({word})" if isinstance(word, str) else "")
    return PlaceResult(PlaceState.ACCEPTED, reference=order_id, message=message)


def _is_duplicate_uuid(message):
    return bool(_NAMES_ORDER_UUID.search(message) and _SAYS_USED.search(message))


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


def _has_status(answer):
    return isinstance(answer.get("status"), str)


def _status_is_ok(answer):
    return answer["status"].strip().upper() == "OK"


def _provider_error(answer):
    fallback = f"provider answered status {quote(answer['status'])}"
    return CheckResult(CheckState.PROVIDER_ERROR, message=_message_of(answer) or fallback)


def _index_entries(entries):
    """{match key: entry}; an entry is found by its order_uuid and by its order_id. The first
    entry wins when the provider lists one order twice."""
    by_key: dict[tuple[str, str], dict] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for field in ("order_uuid", "order_id"):
            key = _match_key(entry.get(field))
            if key is not None:
                by_key.setdefault(key, entry)
    return by_key


def _match_key(value):
    """Ids compare as text; UUIDs compare as UUIDs (dashes and letter case do not matter)."""
    text = id_text(value)
    if text is None:
        return None
    return ("uuid", uuid.UUID(text).hex) if is_uuid_reference(text) else ("id", text)


def _entry_result(entry):
    word = entry.get("status")
    state = _STATES.get(word.strip().lower()) if isinstance(word, str) else None
    if state is None:
        return unknown_status(word)
    return order_result(state, _message_of(entry), pin_in(entry, ("pin", "code")), NO_REASON_MESSAGE)


def _message_of(answer):
    """replay_api (a list of strings, joined), else note, else message."""
    replay = answer.get("replay_api")
    if isinstance(replay, str):
        replay = [replay]
    if isinstance(replay, list):
        parts = [part.strip() for part in replay if isinstance(part, str) and part.strip()]
        if parts:
            return "; ".join(parts)
    return first_text(answer, ("note", "message"))


def _for_all(references, result):
    return dict.fromkeys(references, result)
