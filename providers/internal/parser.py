"""Reading the client API answers of another tenant of the platform (the `internal` family).
Pure functions: bytes in, results out, never an exception.

Status (client/api/check?orders=<one reference>), a list of records or the list under "data":
  [{"id": "...", "orderUuid": "...", "status": "approved", "pinCode": "...", "note": "..."}]
  {"data": [...]}
  []          the tenant does not list the order (yet): still processing
  A record's status is `status` (else `externalStatus`): the tenant's own platform statuses
  pending (still processing), approved (completed, PIN in `pin` or `pinCode`), rejected (failed);
  its text is `note`, `message` or `desc`.
Place (POST client/api/newOrder/<package>/params):
  {"orderId" or "id": "...", "status": "pending", "pin": null, "message" or "note": "..."}
  an error answer (HTTP 4xx): {"statusCode": 409, "message": "order_uuid already used"}
"""

import re
import uuid

from providers.base import CheckResult, CheckState, PlaceResult, PlaceState
from providers.json_answers import first_text, id_text, load_json, order_result, pin_in, quote, unknown_status

_STATES = {
    "pending": CheckState.IN_PROGRESS,
    "approved": CheckState.COMPLETED,
    "rejected": CheckState.FAILED,
}
_ACCEPTED_WORDS = ("pending", "approved")
_MESSAGE_FIELDS = ("note", "message", "desc")
_PIN_FIELDS = ("pin", "pinCode")
# Where a record names the order: by the placing side's order_uuid, or by the tenant's own id.
_OWN_UUID_FIELDS = ("orderUuid", "order_uuid", "uuid")
_THEIR_ID_FIELDS = ("id", "orderId", "order_id")
# What dispatch_order stores as our reference: the order's UUID as 32 hex digits. The tenant's
# own order ids are UUIDs too, but they come back from its JSON in the dashed form.
_OWN_REFERENCE = re.compile(r"[0-9a-fA-F]{32}")
# An error that names the order_uuid as already used: the tenant has the order placed under it.
_NAMES_ORDER_UUID = re.compile(r"order[ _-]?uuid", re.IGNORECASE)
_SAYS_USED = re.compile(r"\b(already|duplicate|exists|taken|used)\b", re.IGNORECASE)

NOT_LISTED_MESSAGE = "the tenant does not list this order yet"
NO_REASON_MESSAGE = "rejected by the tenant (no reason given)"


def is_own_reference(reference: object) -> bool:
    """Our own order UUID as dispatch_order stores it (asked with uuid=1), as opposed to the
    tenant's order id (an externalOrderId)."""
    return isinstance(reference, str) and _OWN_REFERENCE.fullmatch(reference.strip()) is not None


def wire_reference(reference: str) -> str:
    """The reference as sent: our UUID in its dashed form (as order_uuid went out when placing),
    anything else as stored."""
    reference = reference.strip()
    return str(uuid.UUID(reference)) if is_own_reference(reference) else reference


def parse_status_answer(body: bytes, reference: str) -> CheckResult:
    """The status of the order asked about as `reference`, whatever the body holds."""
    answer, problem = load_json(body)
    if problem:
        return CheckResult(CheckState.MALFORMED, message=problem)
    records = answer.get("data") if isinstance(answer, dict) else answer
    if not isinstance(records, list):
        said = _message_of(answer) if isinstance(answer, dict) else ""
        if said:
            return CheckResult(CheckState.PROVIDER_ERROR, message=said)
        return CheckResult(CheckState.MALFORMED, message=f"malformed answer: no list of orders: {quote(answer)}")
    if not records:
        return CheckResult(CheckState.IN_PROGRESS, message=NOT_LISTED_MESSAGE)
    record = _record_for(records, reference)
    if record is None:
        return CheckResult(
            CheckState.MALFORMED, message=f"malformed answer: {len(records)} records, none of them this order"
        )
    return _record_result(record)


def parse_place_answer(body: bytes) -> PlaceResult:
    """The answer (HTTP 200/201) to newOrder. Accepted with the tenant's order id or a pending /
    approved status; an answer we cannot read leaves it unknown whether the order was taken. A
    PIN in the answer is not read: the first status check delivers it (and never a message)."""
    answer, problem = load_json(body)
    if problem or not isinstance(answer, dict):
        return PlaceResult(PlaceState.UNKNOWN, message=problem or f"malformed answer: {quote(answer)}")
    said = _message_of(answer)
    if is_duplicate_order_uuid(said):
        return PlaceResult(PlaceState.DUPLICATE, message=said)
    word = _status_word(answer)
    if word == "rejected":
        return PlaceResult(PlaceState.REFUSED, message=said or NO_REASON_MESSAGE)
    order_id = _first_id(answer, ("orderId", "id"))
    if order_id is None and word not in _ACCEPTED_WORDS:
        return PlaceResult(PlaceState.UNKNOWN, message=f"malformed answer: no order id and no status: {quote(answer)}")
    default = "accepted" + (f" as order {order_id}" if order_id else "") + (f" ({word})" if word else "")
    return PlaceResult(PlaceState.ACCEPTED, reference=order_id, message=said or default)


def error_message(body: bytes) -> str:
    """What an error answer (HTTP 4xx/5xx) says: its message, note or desc (a NestJS-style
    list of messages joined), or "" when it says nothing readable."""
    answer, problem = load_json(body)
    if problem or not isinstance(answer, dict):
        return ""
    listed = answer.get("message")
    if isinstance(listed, list):
        return "; ".join(part.strip() for part in listed if isinstance(part, str) and part.strip())
    return _message_of(answer)


def is_duplicate_order_uuid(message: str) -> bool:
    return bool(message and _NAMES_ORDER_UUID.search(message) and _SAYS_USED.search(message))


def _record_for(records, reference):
    """The record about `reference`: the one naming it, else the only record if it names no
    order of the kind asked about. Never another order's record (its PIN is not ours)."""
    own = is_own_reference(reference)
    fields = _OWN_UUID_FIELDS if own else _THEIR_ID_FIELDS
    wanted = _match_key(reference)
    dicts = [record for record in records if isinstance(record, dict)]
    for record in dicts:
        if wanted in _keys_of(record, fields):
            return record
    if len(records) == 1 and dicts and not _keys_of(dicts[0], fields):
        return dicts[0]
    return None


def _keys_of(record, fields):
    return {key for key in (_match_key(record.get(field)) for field in fields) if key is not None}


def _match_key(value):
    """Ids compare as text; UUIDs as UUIDs (dashes and letter case do not matter)."""
    text = id_text(value)
    if text is None:
        return None
    try:
        return ("uuid", uuid.UUID(text).hex)
    except ValueError:
        return ("id", text)


def _first_id(answer, fields):
    for field in fields:
        text = id_text(answer.get(field))
        if text is not None:
            return text
    return None


def _status_word(record):
    return first_text(record, ("status", "externalStatus")).lower() or None


def _record_result(record):
    word = _status_word(record)
    state = _STATES.get(word)
    if state is None:
        return unknown_status(record.get("status", record.get("externalStatus")))
    return order_result(state, _message_of(record), pin_in(record, _PIN_FIELDS), NO_REASON_MESSAGE)


def _message_of(answer):
    return first_text(answer, _MESSAGE_FIELDS)
