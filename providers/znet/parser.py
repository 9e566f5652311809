"""Reading znet's plain-text answers. Pure functions: bytes in, one result out, never an exception.

Status check answers (pin_kontrol.php), as znet's document and the field show them:
  OK|1|{pin}|{text}   still being processed; the PIN field is empty, " " or " - " (no PIN)
  OK|2|{pin}|{text}   completed; the PIN may be empty or "-" for products loaded onto an
                      account, or several codes one a line (quantity 2 or more: all are kept)
  OK|3|{pin}|{reason} failed or cancelled at the provider
  OK|1                the same with nothing after the state
  OK|{n}|...          a state znet's document does not list: followed as still processing,
                      the state named in `unknown_status`
  {code}|{message}    the query failed (not the order), e.g. 3|Açıklama
  (empty body)        dealer unknown, API access off, or request not from the registered IP
`OK` in any letter case (the platform's own checker accepts `ok`), a UTF-8 byte order mark
before it and blanks around the fields are all read the same.

Place answers (pin_ekle.php): `OK|{dealer cost}|{remaining balance}` (the cost in TRY), or
`{code}|{message}`; a message that says the reference was sent before (znet's
`Daha Önce Gönderilmiş`, the older `6|... daha önce ...`) means znet has the order.
"""

import json

from providers.base import CheckResult, CheckState, ConnectionCheck, PlaceResult, PlaceState
from providers.pins import pin_of
from providers.place_answers import amount_of, says_used_before
from providers.redaction import excerpt

EMPTY_ANSWER_MESSAGE = (
    "znet sent an empty answer: the dealer code is unknown, API access is not enabled for the "
    "dealer, or the request does not come from the dealer's registered fixed IP address"
)
NO_REASON_MESSAGE = "cancelled by the provider (no reason given)"
# znet publishes no list of error codes. Error lines whose message speaks of the password,
# of permissions or of a record not found cannot be fixed by asking again soon: they are
# treated as permanent (maximum backoff). Anything else (e.g. "8|... try again later") is not.
_PERMANENT_ERROR_HINTS = ("şifre", "sifre", "parola", "yetki", "bulunamad", "password", "not found")
_MAX_QUOTED = 80
_MAX_DURUM_QUOTED = 3
# znet's "too many requests, try later" error line (`8|...`): its integration is paused for
# every process (budgets), and the order is not charged with an error.
TRY_LATER_CODE = "8"
# pin_ekle answers its dealer cost in Turkish lira.
COST_CURRENCY = "TRY"


def says_try_later(code: str | None) -> bool:
    """Whether an error line's code is znet's "try later"."""
    return (code or "").strip() == TRY_LATER_CODE


def parse_status_answer(body: bytes | str) -> CheckResult:
    text, problem = _decode(body)
    if problem:
        return CheckResult(CheckState.MALFORMED, message=problem)
    if text == "":
        return CheckResult(CheckState.CONFIGURATION_ERROR, message=EMPTY_ANSWER_MESSAGE, permanent=True)
    fields = text.split("|", 3)
    head = fields[0].strip()
    if head.upper() == "OK":
        return _parse_ok_fields(fields, text)
    # Only the PIN and text fields of an OK line may span lines; an error line is one line.
    if _is_number(head) and len(fields) >= 2 and "\n" not in text:
        message = "|".join(fields[1:]).strip()
        permanent = any(hint in message.lower() for hint in _PERMANENT_ERROR_HINTS)
        return CheckResult(CheckState.PROVIDER_ERROR, code=head, message=message, permanent=permanent)
    return _malformed(text)


def _parse_ok_fields(fields, text):
    fields = fields + [""] * (4 - len(fields))
    durum, pin, description = fields[1].strip(), fields[2], fields[3].strip()
    if not _is_number(durum):
        return _malformed(text)
    if durum == "2":
        return CheckResult(CheckState.COMPLETED, pin=pin_of(pin), message=description)
    if durum == "3":
        return CheckResult(CheckState.FAILED, message=description, note="" if description else NO_REASON_MESSAGE)
    if durum == "1":
        return CheckResult(CheckState.IN_PROGRESS, message=description)
    # A state the monitor does not know: never final, never an error that times the order out.
    return CheckResult(CheckState.IN_PROGRESS, message=description, unknown_status=durum)


def _is_number(text):
    return text.isascii() and text.isdigit()


def parse_place_answer(body: bytes | str) -> PlaceResult:
    """pin_ekle.php: `OK|{cost}|{balance}` when accepted (the cost read into cost_amount, in
    TRY), `{code}|{message}` when refused; a message saying the reference was used before means
    znet already has the order."""
    text, problem = _decode(body)
    if problem:
        return PlaceResult(PlaceState.UNKNOWN, message=problem)
    if text == "":
        return PlaceResult(PlaceState.REFUSED, message=EMPTY_ANSWER_MESSAGE)
    if "\n" in text:
        return PlaceResult(PlaceState.UNKNOWN, message=_malformed(text).message)
    fields = [field.strip() for field in text.split("|")]
    head = fields[0]
    if head.upper() == "OK":
        cost = amount_of(fields[1]) if len(fields) > 1 else None
        return PlaceResult(
            PlaceState.ACCEPTED,
            message="|".join(fields),
            cost_amount=cost,
            cost_currency=COST_CURRENCY if cost is not None else None,
        )
    if _is_number(head) and len(fields) >= 2:
        said = "|".join(fields[1:])
        message = f"{head}: {said}"
        state = PlaceState.DUPLICATE if says_used_before(message) else PlaceState.REFUSED
        return PlaceResult(state, message=message, provider_text=said)
    return PlaceResult(PlaceState.UNKNOWN, message=_malformed(text).message)


def parse_catalog_answer(body):
    """pin_listesi.php, the admin's "test connection": JSON `{"success": true, "result": [...]}`
    summarised as the number of products; an error line or an empty body means refused."""
    text, problem = _decode(body)
    if problem:
        return ConnectionCheck(ok=False, summary=f"failed: {problem}")
    if text == "":
        return ConnectionCheck(ok=False, summary=f"refused: {EMPTY_ANSWER_MESSAGE}")
    head, _, message = text.partition("|")
    if _is_number(head.strip()) and "\n" not in text:
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
    """(text, problem): the answer as stripped text (without a byte order mark), or why it
    cannot be read."""
    if not isinstance(body, str):
        try:
            body = bytes(body).decode("utf-8")
        except (UnicodeDecodeError, TypeError):
            return "", "malformed answer: not valid UTF-8"
    return body.strip().lstrip("\ufeff").strip(), None


def _malformed(text):
    """The answer quoted for an operator, short, secrets masked before it is cut, and never with
    what may be a PIN in it."""
    if text[:3].upper() == "OK|":
        durum = text.split("|", 2)[1]
        # A state is a digit or two; anything longer may be a PIN sent in the wrong field.
        shown = excerpt(durum, _MAX_DURUM_QUOTED) if len(durum) <= _MAX_DURUM_QUOTED else "..."
        quoted = f"{text[:2]}|{shown}|... ({len(text)} characters)"
    else:
        quoted = excerpt(text, _MAX_QUOTED)
    return CheckResult(CheckState.MALFORMED, message=f"malformed answer: {quoted!r}")
