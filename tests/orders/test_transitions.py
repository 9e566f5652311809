"""Storing a check result never loses data: each rule with the competing change made between
the claim and the update, as another run, an operator or the older application would."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from orders.claiming import claim_due_orders
from orders.models import ExternalStatus, Order, OrderEvent
from orders.signals import order_finalized
from orders.transitions import Outcome, apply_check_result
from providers.base import CheckResult, CheckState

pytestmark = pytest.mark.django_db

COMPLETED = CheckResult(CheckState.COMPLETED, pin="NEW-PIN-0000-1111", message="ok")
COMPLETED_NO_PIN = CheckResult(CheckState.COMPLETED, pin=None)
IN_PROGRESS = CheckResult(CheckState.IN_PROGRESS)
ERROR = CheckResult(CheckState.TRANSPORT_ERROR, message="timed out")


def claim(order):
    now = timezone.now()
    result = claim_due_orders(now, 10, now + timedelta(minutes=6))
    assert [o.pk for o in result.orders] == [order.pk]
    return result.orders[0], result.lease_until


def make_sent_order(**fields):
    values = {"external_status": ExternalStatus.SENT, "integration_id": "x", "provider_referans": "r"}
    values.update(fields)
    return Order.objects.create(**values)


@pytest.mark.parametrize("result", [COMPLETED, IN_PROGRESS, ERROR, CheckResult(CheckState.FAILED, message="no")])
def test_an_order_that_became_final_meanwhile_is_never_changed(result):
    order, lease = claim(make_sent_order())
    Order.objects.filter(pk=order.pk).update(external_status="completed", status="approved", pin_code="OPERATOR-PIN")
    assert apply_check_result(order, result, timezone.now(), lease) == Outcome.SKIPPED
    order.refresh_from_db()
    assert (order.external_status, order.pin_code, order.check_attempts) == ("completed", "OPERATOR-PIN", 0)
    assert not OrderEvent.objects.exists()


def test_a_stored_pin_is_never_replaced_by_an_empty_one():
    order, lease = claim(make_sent_order())
    Order.objects.filter(pk=order.pk).update(pin_code="OLD-APP-PIN-77")
    assert apply_check_result(order, COMPLETED_NO_PIN, timezone.now(), lease) == Outcome.COMPLETED
    order.refresh_from_db()
    assert order.pin_code == "OLD-APP-PIN-77"


def test_a_stored_pin_is_never_overwritten():
    order, lease = claim(make_sent_order())
    Order.objects.filter(pk=order.pk).update(pin_code="FIRST-PIN-1234")
    apply_check_result(order, COMPLETED, timezone.now(), lease)
    order.refresh_from_db()
    assert order.pin_code == "FIRST-PIN-1234"


def test_status_never_moves_backwards():
    order, lease = claim(make_sent_order(external_status=ExternalStatus.PROCESSING))
    assert apply_check_result(order, IN_PROGRESS, timezone.now(), lease) == Outcome.PROCESSING
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.PROCESSING
    # Claimed while pending, moved to processing by someone else: our write may not undo it.
    order, lease = claim(make_sent_order(external_status=ExternalStatus.PENDING, next_check_at=None))
    Order.objects.filter(pk=order.pk).update(external_status=ExternalStatus.PROCESSING)
    apply_check_result(order, ERROR, timezone.now(), lease)
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.PROCESSING


def test_a_lost_claim_blocks_non_final_writes_but_never_a_pin():
    order, lease = claim(make_sent_order())
    # The lease ran out and another run claimed the order.
    Order.objects.filter(pk=order.pk).update(next_check_at=lease + timedelta(minutes=1))
    assert apply_check_result(order, IN_PROGRESS, timezone.now(), lease) == Outcome.SKIPPED
    assert apply_check_result(order, ERROR, timezone.now(), lease) == Outcome.SKIPPED
    assert apply_check_result(order, COMPLETED, timezone.now(), lease) == Outcome.COMPLETED
    order.refresh_from_db()
    assert order.pin_code == COMPLETED.pin


def test_one_history_row_per_status_change():
    order, lease = claim(make_sent_order())
    apply_check_result(order, IN_PROGRESS, timezone.now(), lease)
    apply_check_result(order, IN_PROGRESS, timezone.now(), None)  # processing -> processing: no row
    apply_check_result(order, COMPLETED, timezone.now(), None)
    events = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status", "source"))
    assert events == [("sent", "processing", "run"), ("processing", "completed", "run")]


def test_finalized_signal_is_sent_once_after_commit(django_capture_on_commit_callbacks):
    received = []
    receiver = lambda sender, order, outcome, **kwargs: received.append(  # noqa: E731
        (order.pk, outcome, order.external_status, order.pin_code)
    )
    order_finalized.connect(receiver)
    try:
        order, lease = claim(make_sent_order())
        with django_capture_on_commit_callbacks(execute=True):
            apply_check_result(order, COMPLETED, timezone.now(), lease)
        with django_capture_on_commit_callbacks(execute=True):
            apply_check_result(order, COMPLETED, timezone.now(), lease)  # already final: nothing
    finally:
        order_finalized.disconnect(receiver)
    assert received == [(order.pk, "completed", "completed", COMPLETED.pin)]


def test_finalized_signal_is_not_sent_when_the_change_rolls_back(django_capture_on_commit_callbacks):
    received = []
    receiver = lambda sender, order, outcome, **kwargs: received.append(outcome)  # noqa: E731
    order_finalized.connect(receiver)
    try:
        order, lease = claim(make_sent_order())
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(RuntimeError), transaction.atomic():
                apply_check_result(order, COMPLETED, timezone.now(), lease)
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
        order, lease = claim(make_sent_order())
        with django_capture_on_commit_callbacks(execute=True):
            assert apply_check_result(order, COMPLETED, timezone.now(), lease) == Outcome.COMPLETED
    finally:
        order_finalized.disconnect(broken)


def test_finalized_signal_reports_the_24h_timeout(django_capture_on_commit_callbacks):
    received = []
    receiver = lambda sender, order, outcome, **kwargs: received.append((outcome, order.external_status))  # noqa: E731
    order_finalized.connect(receiver)
    try:
        order, lease = claim(make_sent_order(sent_at=timezone.now() - timedelta(hours=25)))
        with django_capture_on_commit_callbacks(execute=True):
            assert apply_check_result(order, IN_PROGRESS, timezone.now(), lease) == Outcome.TIMED_OUT
    finally:
        order_finalized.disconnect(receiver)
    assert received == [("timed_out", "failed")]


PERMANENT_ERROR = CheckResult(
    CheckState.PROVIDER_ERROR, code="1", message="Bayi kodu veya şifre hatalı", permanent=True
)


@pytest.mark.parametrize("clearing_result", [ERROR, IN_PROGRESS])
def test_permanent_errors_keep_their_first_time_until_another_answer(clearing_result):
    first = timezone.now() - timedelta(hours=1)
    order, lease = claim(make_sent_order())
    apply_check_result(order, PERMANENT_ERROR, first, lease)
    Order.objects.filter(pk=order.pk).update(next_check_at=None)
    order, lease = claim(order)
    apply_check_result(order, PERMANENT_ERROR, timezone.now(), lease)
    order.refresh_from_db()
    assert order.permanent_error_since == first

    Order.objects.filter(pk=order.pk).update(next_check_at=None)
    order, lease = claim(order)
    apply_check_result(order, clearing_result, timezone.now(), lease)
    order.refresh_from_db()
    assert order.permanent_error_since is None
