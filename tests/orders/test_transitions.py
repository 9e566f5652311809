"""What a check result does to an order: the pure plan, case by case (a table), then storing it,
which never loses data: each rule with the competing change made between the claim and the
update, as another run, an operator or the older application would."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.claiming import claim_due_orders
from orders.models import ExternalStatus, Order, OrderEvent, PlatformStatus
from orders.outcomes import Outcome
from orders.plans import plan_transition
from orders.signals import order_finalized
from orders.transitions import apply_check_result
from providers.base import CheckResult, CheckState
from schedules.rules import CheckRules
from tests.factories import create_sent_order, sent_order

pytestmark = pytest.mark.django_db

COMPLETED = CheckResult(CheckState.COMPLETED, pin="NEW-PIN-0000-1111", message="ok")
COMPLETED_NO_PIN = CheckResult(CheckState.COMPLETED, pin=None)
IN_PROGRESS = CheckResult(CheckState.IN_PROGRESS)
ERROR = CheckResult(CheckState.TRANSPORT_ERROR, message="timed out")
PERMANENT_ERROR = CheckResult(
    CheckState.PROVIDER_ERROR, code="1", message="Bayi kodu veya şifre hatalı", permanent=True
)
FAILED = CheckResult(CheckState.FAILED, message="stok yok")
LONG_PIN = "P" * 150

# -- plan_transition (pure), one row per case ------------------------------------------------------

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
ABSENT = "(not written)"
ONE_MORE_ATTEMPT = F("check_attempts") + 1
TIMEOUT_MESSAGE = "Timeout: No response after 24h"


@dataclass(frozen=True)
class Case:
    name: str
    order: dict  # columns of the order as stored (a sent order, sent 5 minutes before NOW)
    result: CheckResult
    outcome: Outcome
    changes: dict = field(default_factory=dict)  # column -> value written, or ABSENT


FINAL = {"next_check_at": None, "permanent_error_since": None}
CASES = [
    Case(
        "completed: status, PIN, description; the order is final",
        {},
        COMPLETED,
        Outcome.COMPLETED,
        FINAL
        | {
            "external_status": ExternalStatus.DONE,
            "status": PlatformStatus.APPROVED,
            "pin_code": COMPLETED.pin,
            "completed_at": NOW,
            "last_sync_at": NOW,
            "duration_ms": 300_000,
            "notes_count": 1,
            "last_message": "completed",
            "provider_message": "ok",
            "last_check_error": None,
            "check_attempts": ABSENT,
        },
    ),
    Case(
        "completed, a PIN already stored: kept",
        {"pin_code": "OLD-APP-PIN"},
        COMPLETED,
        Outcome.COMPLETED,
        {"external_status": ExternalStatus.DONE, "pin_code": ABSENT},
    ),
    Case(
        "completed without a PIN or a description: neither is emptied",
        {"pin_code": "OLD-APP-PIN", "provider_message": "earlier"},
        COMPLETED_NO_PIN,
        Outcome.COMPLETED,
        {"pin_code": ABSENT, "provider_message": ABSENT},
    ),
    Case(
        "completed, a PIN too long for pinCode: held, not final",
        {},
        CheckResult(CheckState.COMPLETED, pin=LONG_PIN),
        Outcome.HELD,
        {"pin_code_full": LONG_PIN, "pin_code": ABSENT, "external_status": ABSENT, "status": ABSENT},
    ),
    Case(
        "completed, a too long PIN when one is stored: completed, the stored PIN kept",
        {"pin_code": "OLD-APP-PIN"},
        CheckResult(CheckState.COMPLETED, pin=LONG_PIN),
        Outcome.COMPLETED,
        {"pin_code": ABSENT, "pin_code_full": ABSENT},
    ),
    Case(
        "held for an operator already: nothing is written, not even after 24 h",
        {"pin_code_full": LONG_PIN, "hold_reason": "PIN too long", "sent_at": NOW - timedelta(hours=30)},
        COMPLETED,
        Outcome.HELD,
        {name: ABSENT for name in ("external_status", "status", "pin_code", "pin_code_full", "next_check_at")},
    ),
    Case(
        "failed: rejected, the reason in both messages",
        {"permanent_error_since": NOW - timedelta(hours=1)},
        FAILED,
        Outcome.FAILED,
        FINAL
        | {
            "external_status": ExternalStatus.FAILED,
            "status": PlatformStatus.REJECTED,
            "provider_message": "stok yok",
            "last_message": "failed at the provider: stok yok",
            "last_sync_at": NOW,
            "completed_at": NOW,
            "duration_ms": 300_000,
            "notes_count": 1,
            "last_check_error": None,
            "check_attempts": ABSENT,
        },
    ),
    Case(
        "in progress, sent 5 min ago: processing, next check at the schedule's next time (360 s)",
        {},
        IN_PROGRESS,
        Outcome.PROCESSING,
        {
            "external_status": ExternalStatus.PROCESSING,
            "check_attempts": ONE_MORE_ATTEMPT,
            "next_check_at": NOW + timedelta(seconds=60),
            "last_sync_at": NOW,
            "last_check_error": None,
            "permanent_error_since": None,
            "status": ABSENT,
        },
    ),
    Case(
        "in progress, the fourth time: the schedule counts from sentAt, not the attempts",
        {"external_status": ExternalStatus.PROCESSING, "check_attempts": 3},
        IN_PROGRESS,
        Outcome.PROCESSING,
        {"next_check_at": NOW + timedelta(seconds=60), "external_status": ABSENT},
    ),
    Case(
        "the check failed: status unchanged, the error, the backoff",
        {},
        ERROR,
        Outcome.ERROR,
        {
            "check_attempts": ONE_MORE_ATTEMPT,
            "next_check_at": NOW + timedelta(seconds=30),
            "last_check_error": "transport error: timed out",
            "permanent_error_since": None,
            "external_status": ABSENT,
            "last_sync_at": ABSENT,
        },
    ),
    Case(
        "an error retrying cannot fix: the longest backoff, failing since now (or earlier)",
        {},
        PERMANENT_ERROR,
        Outcome.ERROR,
        {
            "next_check_at": NOW + timedelta(seconds=600),
            "last_check_error": "provider error 1: Bayi kodu veya şifre hatalı",
            "permanent_error_since": Coalesce(F("permanent_error_since"), Value(NOW)),
        },
    ),
    Case(
        "not final 24 h after it was sent: no longer followed, as the platform's checker; still pending",
        {"sent_at": NOW - timedelta(hours=24)},
        IN_PROGRESS,
        Outcome.TIMED_OUT,
        FINAL
        | {
            "external_status": ExternalStatus.FAILED,
            "status": ABSENT,
            "last_message": TIMEOUT_MESSAGE,
            "last_sync_at": NOW,
            "last_check_error": None,
            "check_attempts": ABSENT,
            "completed_at": ABSENT,
        },
    ),
    Case(
        "timed out: the platform's wording after what lastMessage said",
        {"sent_at": NOW - timedelta(hours=25), "last_message": "sync: 1"},
        IN_PROGRESS,
        Outcome.TIMED_OUT,
        {"last_message": "sync: 1 | " + TIMEOUT_MESSAGE},
    ),
    Case(
        "in progress with a status word the monitor does not know: followed, the word noted",
        {},
        CheckResult(CheckState.IN_PROGRESS, unknown_status="on_hold"),
        Outcome.PROCESSING,
        {"last_check_error": 'unknown status word "on_hold": followed as still in progress', "status": ABSENT},
    ),
    Case(
        "completed over a placeholder PIN the platform's checker left: the PIN replaces it",
        {"pin_code": " - "},
        COMPLETED,
        Outcome.COMPLETED,
        {"pin_code": COMPLETED.pin},
    ),
    Case(
        "failed without a reason: the monitor's words in lastMessage only, providerMessage untouched",
        {"provider_message": "earlier"},
        CheckResult(CheckState.FAILED, message=""),
        Outcome.FAILED,
        {"provider_message": ABSENT, "last_message": "failed at the provider: no reason given"},
    ),
    Case(
        "timed out after a failed check: the error kept, not synced",
        {"sent_at": None, "created_at": NOW - timedelta(hours=25)},
        ERROR,
        Outcome.TIMED_OUT,
        {"last_message": TIMEOUT_MESSAGE, "last_check_error": "transport error: timed out", "last_sync_at": ABSENT},
    ),
    Case(
        "completed after 24 h: still completed",
        {"sent_at": NOW - timedelta(hours=30)},
        COMPLETED,
        Outcome.COMPLETED,
        {"pin_code": COMPLETED.pin},
    ),
    Case(
        "failed after 24 h: failed, not timed out",
        {"sent_at": NOW - timedelta(hours=30)},
        FAILED,
        Outcome.FAILED,
        {"last_message": "failed at the provider: stok yok"},
    ),
]


@pytest.fixture
def no_jitter(settings):
    settings.MONITOR_BACKOFF_JITTER = 0


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_plan_transition(case, no_jitter):
    order = sent_order(**({"sent_at": NOW - timedelta(minutes=5)} | case.order))

    transition = plan_transition(order, case.result, NOW, rules=CheckRules.from_settings())

    assert transition.outcome == case.outcome
    written = {name: transition.changes.get(name, ABSENT) for name in case.changes}
    assert written == case.changes


# -- apply_check_result (database) ---------------------------------------------------------------


def claim(order):
    now = timezone.now()
    result = claim_due_orders(now, 10, now + timedelta(minutes=6))
    assert [o.pk for o in result.orders] == [order.pk]
    return result.orders[0], result.lease_until


@pytest.mark.parametrize("result", [COMPLETED, IN_PROGRESS, ERROR, CheckResult(CheckState.FAILED, message="no")])
def test_an_order_that_became_final_meanwhile_is_never_changed(result):
    order, lease = claim(create_sent_order())
    Order.objects.filter(pk=order.pk).update(external_status="completed", status="approved", pin_code="OPERATOR-PIN")
    assert apply_check_result(order, result, timezone.now(), lease, rules=CheckRules.from_settings()) == Outcome.SKIPPED
    order.refresh_from_db()
    assert (order.external_status, order.pin_code, order.check_attempts) == ("completed", "OPERATOR-PIN", 0)
    assert not OrderEvent.objects.exists()


def test_a_stored_pin_is_never_replaced_by_an_empty_one():
    order, lease = claim(create_sent_order())
    Order.objects.filter(pk=order.pk).update(pin_code="OLD-APP-PIN-77")
    assert (
        apply_check_result(order, COMPLETED_NO_PIN, timezone.now(), lease, rules=CheckRules.from_settings())
        == Outcome.COMPLETED
    )
    order.refresh_from_db()
    assert order.pin_code == "OLD-APP-PIN-77"


def test_a_stored_pin_is_never_overwritten():
    order, lease = claim(create_sent_order())
    Order.objects.filter(pk=order.pk).update(pin_code="FIRST-PIN-1234")
    apply_check_result(order, COMPLETED, timezone.now(), lease, rules=CheckRules.from_settings())
    order.refresh_from_db()
    assert order.pin_code == "FIRST-PIN-1234"


def test_status_never_moves_backwards():
    order, lease = claim(create_sent_order(external_status=ExternalStatus.PROCESSING))
    assert (
        apply_check_result(order, IN_PROGRESS, timezone.now(), lease, rules=CheckRules.from_settings())
        == Outcome.PROCESSING
    )
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.PROCESSING
    # Claimed while pending, moved to processing by someone else: our write may not undo it.
    order, lease = claim(create_sent_order(external_status=ExternalStatus.PENDING, next_check_at=None))
    Order.objects.filter(pk=order.pk).update(external_status=ExternalStatus.PROCESSING)
    apply_check_result(order, ERROR, timezone.now(), lease, rules=CheckRules.from_settings())
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.PROCESSING


def test_a_lost_claim_blocks_non_final_writes_but_never_a_pin():
    order, lease = claim(create_sent_order())
    # The lease ran out and another run claimed the order.
    Order.objects.filter(pk=order.pk).update(next_check_at=lease + timedelta(minutes=1))
    assert (
        apply_check_result(order, IN_PROGRESS, timezone.now(), lease, rules=CheckRules.from_settings())
        == Outcome.SKIPPED
    )
    assert apply_check_result(order, ERROR, timezone.now(), lease, rules=CheckRules.from_settings()) == Outcome.SKIPPED
    assert (
        apply_check_result(order, COMPLETED, timezone.now(), lease, rules=CheckRules.from_settings())
        == Outcome.COMPLETED
    )
    order.refresh_from_db()
    assert order.pin_code == COMPLETED.pin


def test_one_history_row_per_status_change():
    order, lease = claim(create_sent_order())
    apply_check_result(order, IN_PROGRESS, timezone.now(), lease, rules=CheckRules.from_settings())
    apply_check_result(
        order, IN_PROGRESS, timezone.now(), None, rules=CheckRules.from_settings()
    )  # processing -> processing: no row
    apply_check_result(order, COMPLETED, timezone.now(), None, rules=CheckRules.from_settings())
    events = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status", "source"))
    assert events == [("sent", "processing", "run"), ("processing", "done", "run")]


def test_finalized_signal_is_sent_once_after_commit(django_capture_on_commit_callbacks):
    received = []
    receiver = lambda sender, order, outcome, **kwargs: received.append(  # noqa: E731
        (order.pk, outcome, order.external_status, order.pin_code)
    )
    order_finalized.connect(receiver)
    try:
        order, lease = claim(create_sent_order())
        with django_capture_on_commit_callbacks(execute=True):
            apply_check_result(order, COMPLETED, timezone.now(), lease, rules=CheckRules.from_settings())
        with django_capture_on_commit_callbacks(execute=True):
            apply_check_result(
                order, COMPLETED, timezone.now(), lease, rules=CheckRules.from_settings()
            )  # already final: nothing
    finally:
        order_finalized.disconnect(receiver)
    assert received == [(order.pk, "completed", "done", COMPLETED.pin)]


def test_finalized_signal_is_not_sent_when_the_change_rolls_back(django_capture_on_commit_callbacks):
    received = []
    receiver = lambda sender, order, outcome, **kwargs: received.append(outcome)  # noqa: E731
    order_finalized.connect(receiver)
    try:
        order, lease = claim(create_sent_order())
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(RuntimeError), transaction.atomic():
                apply_check_result(order, COMPLETED, timezone.now(), lease, rules=CheckRules.from_settings())
                raise RuntimeError("the surrounding transaction fails")
    finally:
        order_finalized.disconnect(receiver)
    assert received == []
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT


def test_a_failing_receiver_does_not_stop_the_monitor(django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise ValueError("refund service down")

    order_finalized.connect(broken)
    try:
        order, lease = claim(create_sent_order())
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                apply_check_result(order, COMPLETED, timezone.now(), lease, rules=CheckRules.from_settings())
                == Outcome.COMPLETED
            )
    finally:
        order_finalized.disconnect(broken)


def test_finalized_signal_reports_the_24h_timeout(django_capture_on_commit_callbacks):
    received = []
    receiver = lambda sender, order, outcome, **kwargs: received.append((outcome, order.external_status))  # noqa: E731
    order_finalized.connect(receiver)
    try:
        order, lease = claim(create_sent_order(sent_at=timezone.now() - timedelta(hours=25)))
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                apply_check_result(order, IN_PROGRESS, timezone.now(), lease, rules=CheckRules.from_settings())
                == Outcome.TIMED_OUT
            )
    finally:
        order_finalized.disconnect(receiver)
    assert received == [("timed_out", "failed")]


@pytest.mark.parametrize("clearing_result", [ERROR, IN_PROGRESS])
def test_permanent_errors_keep_their_first_time_until_another_answer(clearing_result):
    first = timezone.now() - timedelta(hours=1)
    order, lease = claim(create_sent_order())
    apply_check_result(order, PERMANENT_ERROR, first, lease, rules=CheckRules.from_settings())
    Order.objects.filter(pk=order.pk).update(next_check_at=None)
    order, lease = claim(order)
    apply_check_result(order, PERMANENT_ERROR, timezone.now(), lease, rules=CheckRules.from_settings())
    order.refresh_from_db()
    assert order.permanent_error_since == first

    Order.objects.filter(pk=order.pk).update(next_check_at=None)
    order, lease = claim(order)
    apply_check_result(order, clearing_result, timezone.now(), lease, rules=CheckRules.from_settings())
    order.refresh_from_db()
    assert order.permanent_error_since is None
