"""Reading the client API answers of another tenant of the platform (the `internal` family).
Pure functions: bytes in, results out, never an exception.

Status (client/api/check?orders=<one reference>), a list of records or the list under "data",
each record in one of the platform's two shapes:
  {"id": "...", "order_uuid": "...", "status": "accept" | "reject" | "wait", "quantity": 1,
   "pin": "...", "note": "..."}                                     (its NestJS side)
  {"orderId": "...", "status": "approved" | "rejected" | "pending" | "sent", "pin": "...",
   "note": "...", "externalStatus": "...", ...}                     (its Django side)
  []          the tenant does not list the order (yet): still processing
  A record's status word (any case) is `status`, else `externalStatus`; accept/approved is
  completed (PIN in `pin` or `pinCode`; several codes one a line are all kept), reject/rejected
  failed, wait/pending/sent in progress, any other word in progress too (named in
  `unknown_status`). Its text is `note`, `message` or `desc`.
Place (POST client/api/newOrder/<package>/params):
  {"id" or "orderId": "...", "status": "wait" | "pending" | ..., "pin": null, "note": "..."}
  {"status": "reject", "note": "..."}          refused, though the HTTP status is 2xx
  an error answer (HTTP 4xx): {"statusCode": 409, "message": "order_uuid already used"}
"""

import re
import uuid

from providers.base import CheckResult, CheckState, PlaceResult, PlaceState
from providers.json_answers import (
    currency_in,
    id_text,
    load_json,
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

_STATES = {
    **dict.fromkeys(("accept", "approved"), CheckState.COMPLETED),
    **dict.fromkeys(("reject", "rejected"), CheckState.FAILED),
    **dict.fromkeys(("wait", "pending", "sent"), CheckState.IN_PROGRESS),
}
_STATUS_FIELDS = ("status", "externalStatus")
_REASON_FIELDS = ("note", "message", "desc")
_PIN_FIELDS = ("pin", "pinCode")
# Where a record names the order: by the placing side's order_uuid, or by the tenant's own id.
_OWN_UUID_FIELDS = ("orderUuid", "order_uuid", "uuid")
_THEIR_ID_FIELDS = ("id", "orderId", "order_id")
_PLACE_ID_FIELDS = ("orderId", "id")
# What dispatch_order stores as our reference: the order's UUID as 32 hex digits. The tenant's
# own order ids are UUIDs too, but they come back from its JSON in the dashed form; a dashed
# reference is ours only when it is the order's own id (InternalClient.reference_for).
_OWN_REFERENCE = re.compile(r"[0-9a-fA-F]{32}")

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


def parse_status_answer(body: bytes, reference: str, by_uuid: bool | None = None) -> CheckResult:
    """The status of the order asked about as `reference` (asked with uuid=1 when `by_uuid`;
    None: when it is our own reference by its form), whatever the body holds."""
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
        return CheckResult(CheckState.IN_PROGRESS, note=NOT_LISTED_MESSAGE)
    record = _record_for(records, reference, is_own_reference(reference) if by_uuid is None else by_uuid)
    if record is None:
        return CheckResult(
            CheckState.MALFORMED, message=f"malformed answer: {len(records)} records, none of them this order"
        )
    return _record_result(record)


def parse_place_answer(body: bytes) -> PlaceResult:
    """The answer (HTTP 200/201) to newOrder. Refused when its status says reject/rejected;
    accepted with the tenant's order id or a status word the tenant uses for a taken order; an
    answer we cannot read leaves it unknown whether the order was taken. A PIN in the answer is
    not read: the first status check delivers it (and never a message). A `price` is what the
    order cost (in the answer's `currency`, else the one the order's cost is kept in)."""
    answer, problem = load_json(body)
    if problem or not isinstance(answer, dict):
        return PlaceResult(PlaceState.UNKNOWN, message=problem or f"malformed answer: {quote(answer)}")
    said = _message_of(answer)
    if says_used_before(said):
        return PlaceResult(PlaceState.DUPLICATE, message=said)
    word = word_in(answer, _STATUS_FIELDS)
    state = _STATES.get(word_key(word)) if word else None
    if state == CheckState.FAILED:
        return PlaceResult(PlaceState.REFUSED, message=said or NO_REASON_MESSAGE, provider_text=said)
    order_id = _first_id(answer, _PLACE_ID_FIELDS)
    if order_id is None and state is None:
        return PlaceResult(PlaceState.UNKNOWN, message=f"malformed answer: no order id and no status: {quote(answer)}")
    default = "accepted" + (f" as order {order_id}" if order_id else "") + (f" ({word.lower()})" if word else "")
    cost = amount_of(answer.get("price"))
    return PlaceResult(
        PlaceState.ACCEPTED,
        reference=order_id,
        message=said or default,
        cost_amount=cost,
        cost_currency=currency_in(answer) if cost is not None else None,
    )


def _record_for(records, reference, own):
    """The record about `reference` (our order_uuid when `own`, else the tenant's id): the one
    naming it, else the only record if it names no order of the kind asked about. Never
    another order's record (its PIN is not ours)."""
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


def _record_result(record):
    word = word_in(record, _STATUS_FIELDS)
    if word is None:
        return no_status(record.get("status", record.get("externalStatus")))
    message = _message_of(record)
    state = _STATES.get(word_key(word))
    if state is None:
        return unknown_status(word, message)
    return order_result(state, message, pin_in(record, _PIN_FIELDS), NO_REASON_MESSAGE)


def _message_of(answer):
    return reason_in(answer, _REASON_FIELDS)
