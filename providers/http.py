"""HTTP plumbing shared by the provider clients: timeouts, tenacity retries for transient
failures that never run past the caller's deadline, and answers read up to
PROVIDER_MAX_ANSWER_BYTES (the body is streamed; what lies past the limit is never read). Every
error text that leaves this module is redacted: the URL it came from may carry a password.

Two ways to send a request: `http_get` (status checks, balance) retries every transient failure;
`http_send_once` (placing an order) retry only when no connection could be
opened, because any request that may have reached the provider must never be repeated
automatically.
"""

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import partial

import requests
from django.conf import settings
from tenacity import wait_random_exponential
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from budgets.limiter import NoSlot
from providers.addresses import AddressNotAllowed
from providers.base import CheckResult, CheckState, ConnectionCheck, PlaceResult, PlaceState
from providers.redaction import excerpt
from providers.retrying import retrying

log = logging.getLogger(__name__)

_MAX_ERROR_LENGTH = 300


# HTTP answers that refuse the request as such (credentials, URL): retrying soon cannot help.
REFUSED_STATUSES = (401, 403, 404)


@dataclass(frozen=True)
class HttpLimits:
    """The provider HTTP settings, read once where a run starts (a command, the admin's click,
    dispatch_order) and handed to the clients: nothing below reads them from settings."""

    connect_timeout_seconds: float
    read_timeout_seconds: float
    retry_attempts: int
    retry_wait_seconds: float
    max_answer_bytes: int
    throttle_pause_seconds: float  # a provider's "slow down" without a Retry-After
    request_budgets: bool  # whether requests, and a cycle's claims, keep to their integration's budget (budgets)

    @classmethod
    def from_settings(cls) -> "HttpLimits":
        return cls(
            connect_timeout_seconds=settings.PROVIDER_CONNECT_TIMEOUT_SECONDS,
            read_timeout_seconds=settings.PROVIDER_READ_TIMEOUT_SECONDS,
            retry_attempts=settings.PROVIDER_RETRY_ATTEMPTS,
            retry_wait_seconds=settings.PROVIDER_RETRY_WAIT_SECONDS,
            max_answer_bytes=settings.PROVIDER_MAX_ANSWER_BYTES,
            throttle_pause_seconds=settings.MONITOR_THROTTLE_PAUSE_SECONDS,
            request_budgets=settings.MONITOR_REQUEST_BUDGETS,
        )

    @property
    def request_seconds(self) -> float:
        """The longest one attempt waits: its connect and read timeouts."""
        return self.connect_timeout_seconds + self.read_timeout_seconds


class ProviderHTTPError(Exception):
    """No usable answer from the provider. `transient` says whether trying again may help;
    `may_have_arrived` is False only when no connection could be opened, so the request
    provably never left this host. `body` is the answer's body when the provider answered with
    an HTTP error (it may say why); never part of the message."""

    def __init__(
        self, message, transient, status_code=None, may_have_arrived=True, body=b"", permanent=False, throttled=False
    ):
        super().__init__(message)
        # The provider said "too many requests" (its integration is paused), or the request budget
        # had no start before the deadline: not the order's error (providers.fanout releases it).
        self.throttled = throttled
        self.permanent = permanent  # never sendable as configured (an address providers.addresses refuses)
        self.transient = transient
        self.status_code = status_code
        self.may_have_arrived = may_have_arrived
        self.body = body


@dataclass(frozen=True)
class HttpAnswer:
    """A 2xx answer. `cut`: the body was longer than `limit` (the answer limit it was read with)
    and `body` is its start only (whole characters: a UTF-8 sequence the limit ran through is
    left out)."""

    status_code: int
    body: bytes
    cut: bool
    limit: int

    def marked(self, text: str) -> str:
        """`text` read from this answer, with the marker that the answer was cut if it was."""
        if not self.cut:
            return text
        marker = cut_marker(self.limit)
        return text + marker if text else marker.strip()


def cut_marker(limit: int) -> str:
    """What ends a text read from an answer that was cut at `limit` bytes."""
    return f" [answer cut at {limit} bytes]"


def within_answer_limit(text: str, limit: int) -> str:
    """`text` (a provider's message) at most `limit` bytes long in UTF-8, plus the cut marker
    when it had to be cut; a text already cut and marked is left as it is."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit + len(cut_marker(limit)):
        return text
    return _whole_characters(data, limit).decode("utf-8", "surrogatepass") + cut_marker(limit)


def check_result_of_http_error(exc, what_to_check):
    """The CheckResult of a status request that got no usable answer. A refusal is a permanent
    configuration problem; anything else a transport error worth retrying later."""
    if exc.status_code in REFUSED_STATUSES or exc.permanent:
        return CheckResult(
            CheckState.CONFIGURATION_ERROR, message=f"{exc} (check the integration's {what_to_check})", permanent=True
        )
    return CheckResult(CheckState.TRANSPORT_ERROR, message=str(exc), throttled=exc.throttled)


def place_result_of_http_error(exc: ProviderHTTPError) -> PlaceResult:
    """The PlaceResult of a place request that got no usable answer: not sent when no connection
    could be opened, otherwise unknown (the provider may have taken the order)."""
    if not exc.may_have_arrived:
        return PlaceResult(PlaceState.NOT_SENT, message=str(exc))
    return PlaceResult(PlaceState.UNKNOWN, message=str(exc))


def connection_check_of_http_error(exc, what_to_check):
    """The "test connection" summary of a request that got no usable answer."""
    if exc.status_code in REFUSED_STATUSES or exc.permanent:
        return ConnectionCheck(ok=False, summary=f"refused: {exc} (check the integration's {what_to_check})")
    return ConnectionCheck(ok=False, summary=f"failed: {exc}")


# An attempt that starts just before the deadline still gets this long to connect and to read.
_MIN_ATTEMPT_SECONDS = 1.0


def timeouts(limits: HttpLimits, deadline: float | None = None) -> tuple[float, float]:
    """(connect, read) timeouts of one attempt: the configured ones, cut to the time left before
    `deadline`, so that an attempt started before it also ends about then (the admin's "check
    now" must finish within a web worker's timeout even when a provider hangs)."""
    connect, read = limits.connect_timeout_seconds, limits.read_timeout_seconds
    if deadline is None:
        return connect, read
    left = max(deadline - time.monotonic(), _MIN_ATTEMPT_SECONDS)
    connect = min(connect, left)
    return connect, min(read, max(left - connect, _MIN_ATTEMPT_SECONDS))


def http_get(session, url, params=None, headers=None, deadline=None, *, limits: HttpLimits):
    """GET with retries on transient failures; returns the answer of a 2xx response.

    Raises ProviderHTTPError (redacted message) when no usable answer came back.
    `deadline` is a time.monotonic() value after which no new attempt starts; an attempt's
    timeouts are cut to the time left before it.
    """
    tries = _retrying(limits, deadline, lambda exc: isinstance(exc, ProviderHTTPError) and exc.transient)
    return tries(_send_once, "GET", session, url, params, headers, deadline, limits)


def http_send_once(
    method: str,
    session: requests.Session,
    url: str,
    params: dict | None = None,
    headers: dict | None = None,
    deadline: float | None = None,
    *,
    limits: HttpLimits,
) -> HttpAnswer:
    """`method` (GET, or POST with no body: the parameters go in the query string) for a request
    the provider must receive at most once (placing an order).

    A new attempt starts only when the previous one could not open a connection (refused,
    name not resolved, connect timeout): nothing was sent then. A timeout while waiting for the
    answer, a connection lost after sending, or an HTTP 5xx is raised at once, with
    `may_have_arrived` True. Raises ProviderHTTPError like `http_get`.
    """
    tries = _retrying(
        limits, deadline, _unsent_and_transient, before_sleep=partial(_log_unsent_retry, limits.retry_attempts)
    )
    return tries(_send_once, method, session, url, params, headers, deadline, limits)


def _retrying(limits, deadline, retry, before_sleep=None):
    """Tries of one request: `limits.retry_attempts` at most, random exponential waits, none
    after `deadline`."""
    return retrying(
        attempts=limits.retry_attempts,
        deadline=deadline,
        retry=retry,
        wait=wait_random_exponential(multiplier=limits.retry_wait_seconds, max=10),
        before_sleep=before_sleep,
    )


def _unsent_and_transient(exc):
    return isinstance(exc, ProviderHTTPError) and exc.transient and not exc.may_have_arrived


def _log_unsent_retry(attempts, retry_state):
    log.warning(
        "no connection to the provider (attempt %d of %d), nothing was sent; trying again: %s",
        retry_state.attempt_number,
        attempts,
        retry_state.outcome.exception(),
    )


def _send_once(method, session, url, params, headers, deadline, limits):
    gate = getattr(session, "request_gate", None)  # the integration's request budget (budgets)
    try:
        with gate.request(deadline) if gate else nullcontext():
            response = session.request(
                method,
                url,
                params=params,
                headers=headers,
                timeout=timeouts(limits, deadline),
                allow_redirects=False,
                stream=True,
            )
            body, cut = _read_body(response, limits.max_answer_bytes)
    except NoSlot as exc:
        raise ProviderHTTPError(f"not sent: {exc}", transient=False, may_have_arrived=False, throttled=True) from None
    except requests.RequestException as exc:
        raise _error_of(exc) from None
    status = response.status_code
    if status == 429:
        pause_integration(session, _pause_seconds(response, limits))
        raise ProviderHTTPError("HTTP 429 from provider", transient=True, status_code=429, body=body, throttled=True)
    if status >= 300:
        transient = status >= 500
        raise ProviderHTTPError(f"HTTP {status} from provider", transient=transient, status_code=status, body=body)
    return HttpAnswer(status, body, cut, limits.max_answer_bytes)


def _pause_seconds(response, limits: HttpLimits) -> float:
    """How long a 429 pauses the integration: its Retry-After, else the configured pause."""
    seconds = retry_after_seconds(response.headers.get("Retry-After"))
    return limits.throttle_pause_seconds if seconds is None else seconds


def pause_integration(session, seconds: float) -> None:
    """The provider asked us to slow down: no request to its integration from any monitor process
    for `seconds`."""
    gate = getattr(session, "request_gate", None)
    if gate is not None:
        gate.pause(seconds)


_MAX_RETRY_AFTER_SECONDS = 3600.0


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header's delay in seconds (a number or an HTTP date), None when absent or
    unreadable; at most an hour."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_SECONDS)


# Read at a time; an answer past the limit costs at most this much more memory.
_READ_CHUNK_BYTES = 16384


def _read_body(response, limit):
    """(body, cut): the answer's body up to `limit` bytes. Reading stops as soon as the body is
    known to be longer, and the connection is then closed, not drained."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(chunk_size=_READ_CHUNK_BYTES):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
    finally:
        response.close()
    body = b"".join(chunks)
    if len(body) <= limit:
        return body, False
    return _whole_characters(body, limit), True


def _whole_characters(data: bytes, limit: int) -> bytes:
    """The first `limit` bytes of UTF-8 `data`, without the start of a character cut at the
    limit (so the body still decodes when the whole of it would have)."""
    data = data[:limit]
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: where the last character starts
            width = 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4 if byte >> 3 == 0b11110 else 1
            return data[:-back] if width > back else data
    return data


# Raised while the request is being built, before any connection: nothing left this host.
_UNSENDABLE = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


def _error_of(exc):
    """The ProviderHTTPError (redacted) for a request that raised instead of answering."""
    may_have_arrived = not (_never_connected(exc) or isinstance(exc, _UNSENDABLE))
    if isinstance(exc, AddressNotAllowed):
        return ProviderHTTPError(_short(str(exc)), transient=False, may_have_arrived=False, permanent=True)
    if isinstance(exc, requests.Timeout):
        return ProviderHTTPError(_short(f"timed out: {exc}"), transient=True, may_have_arrived=may_have_arrived)
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return ProviderHTTPError(_short(f"connection failed: {exc}"), transient=True, may_have_arrived=may_have_arrived)
    return ProviderHTTPError(
        _short(f"request failed: {type(exc).__name__}: {exc}"), transient=False, may_have_arrived=may_have_arrived
    )


def _never_connected(exc):
    """True when the connection could not be opened (refused, unknown host, connect timeout):
    the request was never written to a socket. A connection lost later (reset, closed without
    an answer) is not this: the provider may have read the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    # requests wraps urllib3's MaxRetryError; its reason is NewConnectionError (a subclass of
    # ConnectTimeoutError) when connecting failed. A proxy in between is not this case.
    return (
        isinstance(cause, MaxRetryError)
        and isinstance(cause.reason, ConnectTimeoutError)
        and not isinstance(exc, requests.exceptions.ProxyError)
    )


def _short(message):
    return excerpt(message, _MAX_ERROR_LENGTH)
