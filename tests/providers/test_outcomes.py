"""What admin messages say about a provider's answer (providers.outcomes): the monitor's own
words, never the reply's body."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.base import ConnectionCheck
from providers.outcomes import check_error_outcome, connection_outcome
from providers.znet.parser import EMPTY_ANSWER_MESSAGE

FIXED_OUTCOMES = {
    "no answer: timed out",
    "no answer: connection failed",
    "malformed answer",
    "refused by the provider (its answer is not shown)",
    "failed: the provider's answer is not shown",
}


@pytest.mark.parametrize(
    "ok,summary,outcome",
    [
        (True, "OK: 148 products in the catalog", "reached znet: 148 products in the catalog"),
        (False, "not configured: integration has no kod/sifre", "not configured: integration has no kod/sifre"),
        (
            False,
            "refused: HTTP 401 from provider (check the integration's baseUrl and apiToken)",
            "refused: HTTP 401 from provider (check the integration's baseUrl and apiToken)",
        ),
        (False, "failed: HTTP 503 from provider", "failed: HTTP 503 from provider"),
        (
            False,
            "refused: not sent: vm resolves to 127.0.0.1, a loopback address (MONITOR_ALLOWED_PROVIDER_HOSTS does not "
            "name it) (check the integration's baseUrl and credentials)",
            "refused: not sent: vm resolves to 127.0.0.1, a loopback address (MONITOR_ALLOWED_PROVIDER_HOSTS does not "
            "name it) (check the integration's baseUrl and credentials)",
        ),
        (
            False,
            "refused: not sent: the request's URL's host 10.0.0.1 is a private address (MONITOR_ALLOWED_PROVIDER_HOSTS "
            "does not name it) (check the integration's baseUrl and apiToken)",
            "refused: not sent: the request's URL's host 10.0.0.1 is a private address (MONITOR_ALLOWED_PROVIDER_HOSTS "
            "does not name it) (check the integration's baseUrl and apiToken)",
        ),
        (False, "failed: unexpected client error: KeyError", "failed: unexpected client error: KeyError"),
        (False, "refused: provider error 1: Bayi kodu veya şifre hatalı", "refused: provider error 1"),
        (False, f"refused: {EMPTY_ANSWER_MESSAGE}", f"refused: {EMPTY_ANSWER_MESSAGE}"),
        (False, "failed: malformed answer: 'Error in request!: GET /servis?kod=***'", "malformed answer"),
        (False, "failed: timed out: HTTPConnectionPool(host='x', port=80): Read timed out.", "no answer: timed out"),
        (False, "failed: connection failed: HTTPConnectionPool(...)", "no answer: connection failed"),
        (False, "refused: Yetkisiz erişim", "refused by the provider (its answer is not shown)"),
        (False, "failed: Order not found in tenant shop2", "failed: the provider's answer is not shown"),
    ],
)
def test_connection_outcomes(ok, summary, outcome):
    assert connection_outcome("znet", ConnectionCheck(ok=ok, summary=summary)) == outcome


# What a reply's body holds that no summary of the monitor's own does.
BODY_MARKS = '<>=!?"{};\n'


@given(
    st.text(max_size=100),
    st.sampled_from(BODY_MARKS),
    st.text(max_size=100),
    st.sampled_from(["", "not sent: ", "unexpected client error: ", "HTTP 401 from provider "]),
)
def test_a_reply_never_reaches_a_failed_connection_message(before, mark, after, disguise):
    said = disguise + before + mark + after
    for summary in (f"failed: {said}", f"refused: {said}", f"refused: provider error 7: {said}"):
        outcome = connection_outcome("znet", ConnectionCheck(ok=False, summary=summary))

        assert outcome in FIXED_OUTCOMES or outcome == "refused: provider error 7", outcome


@pytest.mark.parametrize(
    "error,outcome",
    [
        ("configuration error: integration has no kod/sifre", "configuration error: integration has no kod/sifre"),
        ("transport error: HTTP 503 from provider", "transport error: HTTP 503"),
        ("transport error: timed out: HTTPConnectionPool(host='x')", "transport error: timed out"),
        ("provider error 8: Sistem yoğun, lütfen daha sonra tekrar deneyin", "provider error 8"),
        ("malformed: malformed answer: '<html>502</html>'", "malformed answer"),
        ("provider error: the tenant says no", "provider error"),
        ("", "error"),
    ],
)
def test_check_error_outcomes(error, outcome):
    assert check_error_outcome(error) == outcome
