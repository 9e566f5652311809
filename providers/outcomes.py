"""What an admin message says about a provider's answer: the outcome in the monitor's own words
("reached znet: 1 product in the catalog", "refused: HTTP 401 from provider ...", "refused:
provider error 1", "malformed answer"), never the reply's body.

A message is shown to whoever clicked, and recorded in the admin's history; a reply's body is
whatever the host at the baseUrl chose to send, so it is no part of either. Texts the monitor
writes itself (what is not configured, an HTTP status, an address refused, znet's empty answer)
are kept whole; a text that may quote the provider is reduced to its kind. The whole summary goes
to the log (redacted), for whoever has to find out more.
"""

import re

from providers.base import ConnectionCheck
from providers.znet.parser import EMPTY_ANSWER_MESSAGE

# The monitor's own summaries, matched whole and with the characters they can hold, so that a
# reply cannot pass for one: an HTTP status (providers.http.connection_check_of_http_error), an
# address refused (providers.addresses), a client's bug (providers.connection).
_CHECK_HINT = r"( \(check the integration's [\w ,/]+\))?"
_HOST = r"[\w.:\[\]%-]+"
_OWN_SUMMARIES = [
    re.compile(r"(refused|failed): HTTP \d{3} from provider" + _CHECK_HINT),
    re.compile(rf"refused: not sent: (baseUrl|the request's URL)'s host {_HOST} is [\w ().,-]+" + _CHECK_HINT),
    re.compile(rf"refused: not sent: {_HOST} resolves to [\w.:%]+, [\w -]+ \(\w+ does not name it\)" + _CHECK_HINT),
    re.compile(r"failed: unexpected client error: \w+"),
]
# Written before any request (providers.base, providers.connection): never a provider's words.
_NOT_CONFIGURED = "not configured: "
# znet's error line "<code>|<message>" (providers.znet.parser): its code, never its message.
_PROVIDER_ERROR = re.compile(r"provider error (\d{1,6})\b")
_REFUSED_WITH_CODE = re.compile(r"refused: provider error (\d{1,6})\b")
# last_check_error texts (CheckResult.describe_error): "<state>[ <code>]: <message>".
_OWN_CHECK_ERRORS = ("configuration error: ",)
_TRANSPORT = re.compile(r"transport error: (HTTP \d{3}|timed out|connection failed)")
_STATE = re.compile(r"(in progress|provider error|malformed|transport error|configuration error|completed|failed)\b")


def connection_outcome(provider: str, check: ConnectionCheck) -> str:
    """The one line "Test connection" shows for `check`, an answer of a `provider` family."""
    summary = check.summary
    if check.ok:
        # The clients' own words around a count or a number (ConnectionCheck.summary).
        return f"reached {provider}: {summary.removeprefix('OK: ')}"
    if summary.startswith(_NOT_CONFIGURED) or summary == f"refused: {EMPTY_ANSWER_MESSAGE}":
        return summary
    if any(own.fullmatch(summary) for own in _OWN_SUMMARIES):
        return summary
    return _kind_of_failure(summary)


def _kind_of_failure(summary: str) -> str:
    if "timed out" in summary:
        return "no answer: timed out"
    if "connection failed" in summary:
        return "no answer: connection failed"
    code = _REFUSED_WITH_CODE.match(summary)
    if code:
        return f"refused: provider error {code.group(1)}"
    if "malformed" in summary:
        return "malformed answer"
    if summary.startswith("refused"):
        return "refused by the provider (its answer is not shown)"
    return "failed: the provider's answer is not shown"


def check_error_outcome(last_check_error: str | None) -> str:
    """The kind of a failed check, for the "Check now" message: the order's page has the whole
    last_check_error."""
    text = (last_check_error or "").strip()
    if text.startswith(_OWN_CHECK_ERRORS):
        return text
    transport = _TRANSPORT.match(text)
    if transport:
        return f"transport error: {transport.group(1)}"
    code = _PROVIDER_ERROR.match(text)
    if code:
        return f"provider error {code.group(1)}"
    if text.startswith("malformed"):
        return "malformed answer"
    state = _STATE.match(text)
    return state.group(1) if state else "error"
