"""A provider that answers slowly, wrongly or not at all: the run goes on, no order is skipped."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from orders.models import ExternalStatus, Order
from providers.models import Integration

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("check_pending_orders", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def counts(summary):
    return dict(part.split("=") for part in summary.split() if "=" in part)


@pytest.mark.slow
def test_mixed_faults_every_order_updated_or_rescheduled(make_order, sandbox, settings):
    settings.PROVIDER_RETRY_ATTEMPTS = 2
    sandbox.config.http500_rate = 0.20
    sandbox.config.slow_rate = 0.10
    sandbox.config.slow_seconds = 1.5  # beyond the 1 s read timeout
    sandbox.config.malformed_rate = 0.05
    orders = [make_order(outcome="completed" if n % 4 else "failed", checks_until_final=1 + n % 2) for n in range(120)]
    before = timezone.now()

    summary = counts(run("--limit", "200"))

    assert int(summary["checked"]) == len(orders)
    assert summary["released"] == "0" and summary["skipped"] == "0"
    rows = Order.objects.filter(pk__in=[o.pk for o in orders])
    final = rows.filter(external_status__in=[ExternalStatus.DONE, ExternalStatus.FAILED])
    assert final.filter(next_check_at__isnull=False).count() == 0
    rescheduled = rows.exclude(pk__in=final).filter(next_check_at__gt=before, check_attempts=1)
    assert final.count() + rescheduled.count() == len(orders)  # none skipped silently
    errors = rows.filter(last_check_error__isnull=False)
    assert errors.count() == int(summary["errors"]) > 0
    assert rows.filter(external_status=ExternalStatus.DONE).count() == int(summary["completed"])
    assert rows.filter(external_status=ExternalStatus.FAILED).count() == int(summary["failed"])
    assert rows.filter(external_status=ExternalStatus.PROCESSING).count() == int(summary["processing"])
    kinds = {error.split(":")[0] for error in errors.values_list("last_check_error", flat=True)}
    assert kinds <= {"transport error", "malformed"}
    assert "transport error" in kinds


def test_transient_http_500_is_retried_within_the_check(make_order, sandbox):
    order = make_order(pin="RETRIED-PIN-0042")
    sandbox.queue_fault("http500", times=2, reference=order.provider_referans)
    run()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.DONE
    assert len(sandbox.status_checks(order.provider_referans)) == 3


@pytest.mark.slow
def test_persistent_timeouts_reschedule_with_backoff(make_order, sandbox):
    sandbox.config.slow_seconds = 1.5
    order = make_order()
    sandbox.queue_fault("slow", times=3, reference=order.provider_referans)
    before = timezone.now()
    run()
    after = timezone.now()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT
    assert order.last_check_error.startswith("transport error: timed out")
    # Stored between `before` and `after`, due 30 s +-10 % later, however long the run took.
    assert before + timedelta(seconds=27) <= order.next_check_at <= after + timedelta(seconds=33)


def test_an_error_after_processing_answers_waits_the_first_backoff_step(make_order, sandbox, settings):
    """The backoff counts failed checks in a row, not every check: 5 "still processing" answers
    and then one HTTP 502 wait 30 s (the first step), not the 600 s of a sixth error."""
    order = make_order(checks_until_final=100)
    for _ in range(5):
        Order.objects.filter(pk=order.pk).update(next_check_at=None)  # due again now
        assert counts(run())["processing"] == "1"
    sandbox.queue_answer(502, "Bad Gateway", times=settings.PROVIDER_RETRY_ATTEMPTS, matching=order.provider_referans)
    Order.objects.filter(pk=order.pk).update(next_check_at=None)
    before = timezone.now()
    assert counts(run())["errors"] == "1"
    after = timezone.now()

    order.refresh_from_db()
    assert order.check_attempts == 6  # every check counts, the operators' queries read it
    assert order.last_check_error.startswith("transport error")
    assert before + timedelta(seconds=27) <= order.next_check_at <= after + timedelta(seconds=33)


@pytest.mark.parametrize(
    "breakage,expected",
    [
        ({"sifre": "wrong-password"}, "provider error 1: Bayi kodu veya şifre hatalı"),
        ({"kod": "unknown-dealer"}, "configuration error: znet sent an empty answer"),
        ({"enabled": False}, "is disabled"),
        ({"provider": "nosuchprovider"}, "unknown provider 'nosuchprovider'"),
        ({"base_url": ""}, "integration has no baseUrl"),
    ],
)
def test_permanent_failures_wait_the_maximum_backoff(make_order, integration, breakage, expected):
    order = make_order()
    Integration.objects.filter(pk=integration.pk).update(**breakage)
    summary = counts(run())
    order.refresh_from_db()
    assert summary["errors"] == "1"
    assert expected in order.last_check_error
    assert order.external_status == ExternalStatus.SENT
    assert (order.next_check_at - timezone.now()).total_seconds() >= 590


def test_unknown_reference_and_missing_integration_are_permanent(make_order, sandbox):
    unknown = make_order(provider_referans="never-placed-here")
    orphan = make_order(integration_id="4b1f0000-0000-0000-0000-000000000000")
    garbage_id = make_order(integration_id="not-a-uuid")
    run()
    for order in (unknown, orphan, garbage_id):
        order.refresh_from_db()
        assert (order.next_check_at - timezone.now()).total_seconds() >= 590
    assert "İşlem bulunamadı" in unknown.last_check_error
    assert "not found" in orphan.last_check_error and "not found" in garbage_id.last_check_error


def test_unreachable_provider_does_not_stop_other_providers(make_order, sandbox, integration):
    dead = Integration.objects.create(
        name="down", provider="znet", base_url="http://127.0.0.1:9", kod="k", sifre="pw-dead-1"
    )
    stuck = make_order(integration_id=str(dead.pk))
    fine = make_order()
    summary = counts(run())
    assert summary["completed"] == "1" and summary["errors"] == "1"
    stuck.refresh_from_db()
    fine.refresh_from_db()
    assert fine.external_status == ExternalStatus.DONE
    assert stuck.last_check_error.startswith("transport error: connection failed")


def fail_updates_of(order):
    """A real database error (a constraint violation) on every UPDATE that changes one row's
    status, as a broken trigger or constraint would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_update() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'row refused' USING ERRCODE = 'integrity_constraint_violation'; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE UPDATE ON product_orders FOR EACH ROW "
                f'WHEN (OLD.id = \'{order.pk}\' AND NEW."externalStatus" <> OLD."externalStatus") '
                "EXECUTE FUNCTION refuse_update()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE UPDATE ON product_orders "
                f"WHEN OLD.id = '{order.pk.hex}' AND NEW.externalStatus <> OLD.externalStatus "
                "BEGIN SELECT RAISE(ABORT, 'row refused'); END"
            )


def test_database_error_on_one_update_does_not_abort_the_batch(make_order):
    first, second = make_order(checks_until_final=3), make_order()
    fail_updates_of(first)
    line = run()
    assert "update_failures=1" in line and "completed=1" in line
    second.refresh_from_db()
    assert second.external_status == ExternalStatus.DONE
    first.refresh_from_db()
    assert first.external_status == ExternalStatus.SENT and first.pin_code_full is None
    # Recorded on that order, which waits the error backoff instead of failing at every run.
    assert first.last_check_error == "storing the check result failed: row refused"
    assert first.check_attempts == 1 and first.next_check_at > timezone.now()


def test_a_pin_whose_write_is_refused_is_kept_and_the_order_held(make_order, sandbox):
    order = make_order(pin="PIN-1111-2222-3333")
    fail_updates_of(order)
    assert "update_failures=1" in run()
    order.refresh_from_db()
    assert order.external_status == ExternalStatus.SENT and order.pin_code is None
    assert order.pin_code_full == "PIN-1111-2222-3333"
    assert order.last_check_error == (
        "storing the check result failed: row refused; the PIN is kept whole in pin_code_full: deliver it by hand"
    )
    # Held: the next run neither asks the provider again nor fails the write again.
    assert "checked=0 " in run() and len(sandbox.status_checks(order.provider_referans)) == 1


def test_deadline_releases_unchecked_orders_without_counting_an_attempt(make_order, sandbox, settings):
    settings.MONITOR_PER_INTEGRATION_CONCURRENCY = 1
    sandbox.config.latency = 0.3
    orders = [make_order() for _ in range(10)]
    started = timezone.now()
    summary = counts(run("--max-seconds", "1"))
    assert int(summary["released"]) > 0
    assert int(summary["checked"]) + int(summary["released"]) == len(orders)
    released = Order.objects.filter(pk__in=[o.pk for o in orders], external_status=ExternalStatus.SENT)
    assert released.count() == int(summary["released"])
    assert all(o.check_attempts == 0 and o.next_check_at <= timezone.now() for o in released)
    assert all(o.next_check_at >= started - timedelta(seconds=1) for o in released)
    assert Order.objects.filter(Q(next_check_at__gt=timezone.now() + timedelta(minutes=2))).count() == 0
