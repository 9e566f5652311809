"""HTTP plumbing shared by the provider clients: pooled sessions, timeouts, and tenacity retries
for transient failures that never run past the caller's deadline. Every error text that leaves
this module is redacted: the URL it came from may carry a password."""

import logging
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from providers.base import CheckResult, CheckState, ConnectionCheck
from providers.redaction import redact

log = logging.getLogger(__name__)

_MAX_ERROR_LENGTH = 300


# HTTP answers that refuse the request as such (credentials, URL): retrying soon cannot help.
REFUSED_STATUSES = (401, 403, 404)


class ProviderHTTPError(Exception):
    """No usable answer from the provider. `transient` says whether trying again may help."""

    def __init__(self, message, transient, status_code=None):
        super().__init__(message)
        self.transient = transient
        self.status_code = status_code


@dataclass(frozen=True)
class HttpAnswer:
    status_code: int
    body: bytes


def check_result_of_http_error(exc, what_to_check):
    """The CheckResult of a status request that got no usable answer. A refusal is a permanent
    configuration problem; anything else a transport error worth retrying later."""
    if exc.status_code in REFUSED_STATUSES:
        return CheckResult(
            CheckState.CONFIGURATION_ERROR, message=f"{exc} (check the integration's {what_to_check})", permanent=True
        )
    return CheckResult(CheckState.TRANSPORT_ERROR, message=str(exc))


def connection_check_of_http_error(exc, what_to_check):
    """The "test connection" summary of a request that got no usable answer."""
    if exc.status_code in REFUSED_STATUSES:
        return ConnectionCheck(ok=False, summary=f"refused: {exc} (check the integration's {what_to_check})")
    return ConnectionCheck(ok=False, summary=f"failed: {exc}")


def build_session(pool_size):
    """One session per integration: keep-alive connections, pool sized to the concurrency cap."""
    session = requests.Session()
    # Retries are ours (tenacity), so urllib3 must not retry behind our back.
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1), max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# An attempt that starts just before the deadline still gets this long to connect and to read.
_MIN_ATTEMPT_SECONDS = 1.0


def timeouts(deadline=None):
    """(connect, read) timeouts of one attempt: the configured ones, cut to the time left before
    `deadline`, so that an attempt started before it also ends about then (the admin's "check
    now" must finish within a web worker's timeout even when a provider hangs)."""
    connect, read = settings.PROVIDER_CONNECT_TIMEOUT_SECONDS, settings.PROVIDER_READ_TIMEOUT_SECONDS
    if deadline is None:
        return connect, read
    left = max(deadline - time.monotonic(), _MIN_ATTEMPT_SECONDS)
    connect = min(connect, left)
    return connect, min(read, max(left - connect, _MIN_ATTEMPT_SECONDS))


def http_get(session, url, params=None, headers=None, deadline=None):
    """GET with retries on transient failures; returns the answer of a 2xx response.

    Raises ProviderHTTPError (redacted message) when no usable answer came back.
    `deadline` is a time.monotonic() value after which no new attempt starts; an attempt's
    timeouts are cut to the time left before it.
    """
    retrying = Retrying(
        stop=stop_after_attempt(settings.PROVIDER_RETRY_ATTEMPTS) | _stop_at_deadline(deadline),
        wait=wait_random_exponential(multiplier=settings.PROVIDER_RETRY_WAIT_SECONDS, max=10),
        retry=retry_if_exception(lambda exc: isinstance(exc, ProviderHTTPError) and exc.transient),
        reraise=True,
    )
    return retrying(_get_once, session, url, params, headers, deadline)


def _stop_at_deadline(deadline):
    def stop(retry_state):
        if deadline is None:
            return False
        upcoming = retry_state.upcoming_sleep or 0
        return time.monotonic() + upcoming >= deadline

    return stop


def _get_once(session, url, params, headers, deadline):
    try:
        response = session.get(url, params=params, headers=headers, timeout=timeouts(deadline), allow_redirects=False)
    except requests.Timeout as exc:
        raise ProviderHTTPError(_short(f"timed out: {exc}"), transient=True) from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise ProviderHTTPError(_short(f"connection failed: {exc}"), transient=True) from None
    except requests.RequestException as exc:
        raise ProviderHTTPError(_short(f"request failed: {type(exc).__name__}: {exc}"), transient=False) from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise ProviderHTTPError(f"HTTP {status} from provider", transient=True, status_code=status)
    if status >= 300:
        raise ProviderHTTPError(f"HTTP {status} from provider", transient=False, status_code=status)
    return HttpAnswer(status, response.content)


def _short(message):
    message = redact(message)
    return message if len(message) <= _MAX_ERROR_LENGTH else message[: _MAX_ERROR_LENGTH - 3] + "..."
