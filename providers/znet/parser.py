"""Reading znet's plain-text answers. Pure functions: bytes in, one result out, never an exception.

Status check answers (pin_kontrol.php):
  OK|1|...            still being processed
  OK|2|{pin}|{text}   completed; the PIN may be empty or "-" for products loaded onto an account
  OK|3||{reason}      failed or cancelled at the provider
  {code}|{message}    the query failed (not the order)
  (empty body)        dealer unknown, API access off, or request not from the registered IP
"""

import json

from providers.base import CheckResult, CheckState, ConnectionCheck, PlaceResult, PlaceState
from providers.redaction import excerpt

EMPTY_ANSWER_MESSAGE = (
    "znet sent an empty answer: the dealer code is unknown, API access is not enabled for the "
    "dealer, or the request does not come from the dealer's registered fixed IP address"
)
_NO_PIN_VALUES = {"", "-"}
# znet publishes no list of error codes. Error lines whose message speaks of the password,
# of permissions or of a record not found cannot be fixed by asking again soon: they are
# treated as permanent (maximum backoff). Anything else (e.g. "8|... try again later") is not.
_PERMANENT_ERROR_HINTS = ("şifre", "sifre", "parola", "yetki", "bulunamad", "password", "not found")
_MAX_QUOTED = 80
# pin_ekle's answer to a reference it has seen before: `6|Bu referans ile daha önce işlem
# yapılmış` ("a transaction was already made with this reference"). znet has the order.
DUPLICATE_REFERENCE_CODE = "6"
_DUPLICATE_HINTS = ("daha önce", "daha once")


def parse_status_answer(body):
    text, problem = _decode(body)
    if problem:
        return CheckResult(CheckState.MALFORMED, message=problem)
    if text == "":
        return CheckResult(CheckState.CONFIGURATION_ERROR, message=EMPTY_ANSWER_MESSAGE, permanent=True)
    if "\n" in text:
        return _malformed(text)
    fields = text.split("|", 3)
    head = fields[0].strip()
    if head == "OK":
        return _parse_ok_fields(fields, text)
    if head.isdigit() and len(fields) >= 2:
        message = "|".join(fields[1:]).strip()
        permanent = any(hint in message.lower() for hint in _PERMANENT_ERROR_HINTS)
        return CheckResult(CheckState.PROVIDER_ERROR, code=head, message=message, permanent=permanent)
    return _malformed(text)


def _parse_ok_fields(fields, text):
    fields = fields + [""] * (4 - len(fields))
    durum, pin, description = fields[1].strip(), fields[2].strip(), fields[3].strip()
    if durum == "1":
        return CheckResult(CheckState.IN_PROGRESS, message=description)
    if durum == "2":
        return CheckResult(CheckState.COMPLETED, pin=None if pin in _NO_PIN_VALUES else pin, message=description)
    if durum == "3":
        return CheckResult(CheckState.FAILED, message=description or "cancelled by the provider (no reason given)")
    return _malformed(text)


def parse_place_answer(body):
    """pin_ekle.php: `OK|{cost}|{balance}` when accepted, `{code}|{message}` when refused;
    the duplicate-reference line means znet already has the order."""
    text, problem = _decode(body)
    if problem:
        return PlaceResult(PlaceState.UNKNOWN, message=problem)
    if text == "":
        return PlaceResult(PlaceState.REFUSED, message=EMPTY_ANSWER_MESSAGE)
    fields = text.split("|")
    head = fields[0].strip()
    if head == "OK" and "\n" not in text:
        return PlaceResult(PlaceState.ACCEPTED, message=text)
    if head.isdigit() and len(fields) >= 2 and "\n" not in text:
        message = f"{head}: {'|'.join(fields[1:]).strip()}"
        state = PlaceState.DUPLICATE if _is_duplicate(head, message) else PlaceState.REFUSED
        return PlaceResult(state, message=message)
    return PlaceResult(PlaceState.UNKNOWN, message=_malformed(text).message)


def _is_duplicate(code, message):
    """The duplicate-reference line: code 6, or a message that says "already ... this reference"
    (znet publishes no list of codes, so the words count as much as the number)."""
    lowered = message.lower()
    says_before = any(hint in lowered for hint in _DUPLICATE_HINTS)
    return says_before and (code == DUPLICATE_REFERENCE_CODE or "referans" in lowered)


def parse_catalog_answer(body):
    """pin_listesi.php, the admin's "test connection": JSON `{"success": true, "result": [...]}`
    summarised as the number of products; an error line or an empty body means refused."""
    text, problem = _decode(body)
    if problem:
        return ConnectionCheck(ok=False, summary=f"failed: {problem}")
    if text == "":
        return ConnectionCheck(ok=False, summary=f"refused: {EMPTY_ANSWER_MESSAGE}")
    head, _, message = text.partition("|")
    if head.strip().isdigit() and "\n" not in text:
        return ConnectionCheck(ok=False, summary=f"refused: provider error {head.strip()}: {message.strip()}")
    try:
        answer = json.loads(text)
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        return ConnectionCheck(ok=False, summary=f"failed: {_malformed(text).message}")
    products = answer.get("result")
    if answer.get("success") is True and isinstance(products, list):
        noun = "product" if len(products) == 1 else "products"
        return ConnectionCheck(ok=True, summary=f"OK: {len(products)} {noun} in the catalog")
    error = str(answer.get("error") or "success is not true")
    return ConnectionCheck(ok=False, summary=f"refused: {excerpt(error, _MAX_QUOTED)}")


def _decode(body):
    """(text, problem): the answer as stripped text, or why it cannot be read."""
    if isinstance(body, str):
        return body.strip().lstrip("\ufeff").strip(), None
    try:
        return body.decode("utf-8").lstrip("\ufeff").strip(), None
    except UnicodeDecodeError:
        return "", "malformed answer: not valid UTF-8"


def _malformed(text):
    """The answer quoted for an operator, short, secrets masked before it is cut, and never with
    what may be a PIN in it."""
    if text.startswith("OK|"):
        quoted = excerpt("|".join(text.split("|", 2)[:2]), _MAX_QUOTED) + f"|... ({len(text)} characters)"
    else:
        quoted = excerpt(text, _MAX_QUOTED)
    return CheckResult(CheckState.MALFORMED, message=f"malformed answer: {quoted!r}")
