"""Check results against the live column sizes: messages are shortened to fit, "providerMessage"
keeps the provider's words whole, and a PIN too long for "pinCode" holds the order for an operator
instead of being cut."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.claiming import claim_due_orders
from orders.columns import ELLIPSIS, fits, max_length
from orders.models import ExternalStatus, Order, OrderEvent, PlatformStatus
from orders.outcomes import Outcome, RunReport
from orders.plans import plan_transition
from orders.transitions import apply_check_result
from providers.base import CheckResult, CheckState
from schedules.rules import CheckRules
from tests.factories import create_sent_order, sent_order

LONG_REASON = "Sağlayıcı siparişi reddetti: " + "oyuncu hesabı doğrulanamadı " * 10  # about 300 characters
LONG_PIN = "P" * 150
HELD_MESSAGE = 'PIN of 150 characters does not fit "pinCode" (120): kept whole in pin_code_full; deliver it by hand'


# -- plan_transition (pure) ----------------------------------------------------------------------


def test_a_long_failure_reason_is_shortened_in_last_message_and_kept_whole_in_provider_message():
    assert len(LONG_REASON) > 250
    transition = plan_transition(
        sent_order(),
        CheckResult(CheckState.FAILED, message=LONG_REASON),
        timezone.now(),
        rules=CheckRules.from_settings(),
    )
    assert transition.outcome == Outcome.FAILED
    last_message = transition.changes["last_message"]
    assert len(last_message) == 250 and last_message.endswith(ELLIPSIS)
    assert last_message.startswith("failed at the provider: Sağlayıcı siparişi reddetti")
    assert transition.changes["provider_message"] == LONG_REASON


def test_a_long_description_of_a_completed_order_is_kept_whole():
    result = CheckResult(CheckState.COMPLETED, pin="PIN-1", message=LONG_REASON)
    transition = plan_transition(sent_order(), result, timezone.now(), rules=CheckRules.from_settings())
    assert transition.outcome == Outcome.COMPLETED
    assert transition.changes["provider_message"] == LONG_REASON


def test_a_pin_of_exactly_the_column_size_completes_the_order():
    pin = "Q" * max_length("pin_code")
    transition = plan_transition(
        sent_order(), CheckResult(CheckState.COMPLETED, pin=pin), timezone.now(), rules=CheckRules.from_settings()
    )
    assert transition.outcome == Outcome.COMPLETED and transition.changes["pin_code"] == pin


def test_a_pin_too_long_for_pin_code_holds_the_order_instead_of_completing_it():
    now = timezone.now()
    result = CheckResult(CheckState.COMPLETED, pin=LONG_PIN, message="Kod: A|B|C teslim")
    transition = plan_transition(sent_order(), result, now, rules=CheckRules.from_settings())
    assert transition.outcome == Outcome.HELD and not transition.outcome.is_final
    assert transition.changes == {
        "pin_code_full": LONG_PIN,
        "hold_reason": HELD_MESSAGE,
        "last_check_error": HELD_MESSAGE,
        "last_sync_at": now,
        "next_check_at": None,
        "provider_message": "Kod: A|B|C teslim",
    }


def test_a_stored_pin_wins_over_a_long_one_and_the_order_completes():
    transition = plan_transition(
        sent_order(pin_code="OLD-APP-PIN"),
        CheckResult(CheckState.COMPLETED, pin=LONG_PIN),
        timezone.now(),
        rules=CheckRules.from_settings(),
    )
    assert transition.outcome == Outcome.COMPLETED and "pin_code" not in transition.changes


@pytest.mark.parametrize(
    "result",
    [
        CheckResult(CheckState.COMPLETED, pin="SHORT-PIN-1234"),
        CheckResult(CheckState.COMPLETED, pin="R" * 200),
        CheckResult(CheckState.FAILED, message="cancelled"),
        CheckResult(CheckState.IN_PROGRESS),
        CheckResult(CheckState.TRANSPORT_ERROR, message="timed out"),
    ],
)
def test_a_held_order_is_never_changed_by_a_later_answer_nor_timed_out(result):
    held = sent_order(pin_code_full=LONG_PIN, hold_reason=HELD_MESSAGE, sent_at=timezone.now() - timedelta(hours=30))
    transition = plan_transition(held, result, timezone.now(), rules=CheckRules.from_settings())
    assert (transition.outcome, transition.changes) == (Outcome.HELD, {})


results = st.builds(
    CheckResult,
    state=st.sampled_from(list(CheckState)),
    pin=st.one_of(st.none(), st.text(min_size=1, max_size=300)),
    message=st.text(max_size=600),
    code=st.one_of(st.none(), st.text(max_size=40)),
    permanent=st.booleans(),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(result=results, age_hours=st.sampled_from([0.1, 30]), status=st.sampled_from(["pending", "sent", "processing"]))
def test_every_planned_value_fits_its_live_column_and_a_pin_is_never_cut(result, age_hours, status):
    order = sent_order(external_status=status, sent_at=timezone.now() - timedelta(hours=age_hours))
    transition = plan_transition(order, result, timezone.now(), rules=CheckRules.from_settings())
    for name, value in transition.changes.items():
        if isinstance(value, str):
            assert fits(name, value), name
    if "pin_code" in transition.changes:
        assert transition.changes["pin_code"] == result.pin
    if "pin_code_full" in transition.changes:
        assert transition.changes["pin_code_full"] == result.pin


# -- apply_check_result (database) ---------------------------------------------------------------


def claim(order):
    now = timezone.now()
    claimed = claim_due_orders(now, 10, now + timedelta(minutes=6))
    assert [o.pk for o in claimed.orders] == [order.pk]
    return claimed.orders[0], claimed.lease_until


@pytest.mark.django_db
def test_a_held_order_keeps_its_pin_whole_stays_active_and_is_never_due_again(
    finalized, django_capture_on_commit_callbacks
):
    order, lease = claim(create_sent_order())
    with django_capture_on_commit_callbacks(execute=True):
        outcome = apply_check_result(
            order,
            CheckResult(CheckState.COMPLETED, pin=LONG_PIN),
            timezone.now(),
            lease,
            rules=CheckRules.from_settings(),
        )

    assert outcome == Outcome.HELD
    order.refresh_from_db()
    assert (order.external_status, order.status) == (ExternalStatus.SENT, PlatformStatus.PENDING)
    assert (order.pin_code, order.pin_code_full, order.last_check_error) == (None, LONG_PIN, HELD_MESSAGE)
    assert finalized == [] and not OrderEvent.objects.exists()
    assert not Order.objects.due(timezone.now() + timedelta(days=3)).exists()


@pytest.mark.django_db
def test_a_later_check_of_a_held_order_writes_nothing(finalized, django_capture_on_commit_callbacks):
    order = create_sent_order()
    Order.objects.filter(pk=order.pk).update(
        pin_code_full=LONG_PIN, hold_reason=HELD_MESSAGE, last_check_error=HELD_MESSAGE
    )
    order.refresh_from_db()
    before = Order.objects.values().get(pk=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        for result in (CheckResult(CheckState.COMPLETED, pin="OTHER-PIN-0000"), CheckResult(CheckState.FAILED)):
            assert (
                apply_check_result(
                    order, result, timezone.now() + timedelta(hours=30), None, rules=CheckRules.from_settings()
                )
                == Outcome.HELD
            )
    assert Order.objects.values().get(pk=order.pk) == before
    assert finalized == []


@pytest.mark.django_db
def test_a_long_pin_is_held_even_after_the_claim_was_lost():
    order, lease = claim(create_sent_order())
    Order.objects.filter(pk=order.pk).update(next_check_at=lease + timedelta(minutes=1))  # claimed again elsewhere
    assert apply_check_result(
        order, CheckResult(CheckState.COMPLETED, pin=LONG_PIN), timezone.now(), lease, rules=CheckRules.from_settings()
    ) == (Outcome.HELD)
    order.refresh_from_db()
    assert order.pin_code_full == LONG_PIN


def test_held_orders_appear_in_the_summary_line_only_when_there_are_some():
    report = RunReport()
    assert "held" not in report.summary_line()
    report.count(Order(), Outcome.HELD)
    assert report.summary_line().startswith("checked=1 completed=0 failed=0 processing=0 errors=0 timed_out=0")
    assert " held=1" in report.summary_line()
