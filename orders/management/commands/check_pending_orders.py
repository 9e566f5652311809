"""python manage.py check_pending_orders: check due orders at their providers (run from cron)."""

import logging
import signal
import sys
import threading
from contextlib import contextmanager
from functools import partial

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from config.env import range_of
from config.sentry import cron_check_in
from health.metrics import FinalOrders, write_run_metrics
from health.stuck import StuckLimits
from orders.claiming import OrderFilter, OrderNotCheckable, RunConfig, preview_due_orders
from orders.loop import run_batch, run_loop
from orders.management.options import (
    USAGE_ERROR,
    database_error_line,
    file_in_existing_directory,
    setting_option,
    uuid_option,
)
from orders.monitor import check_single_order
from providers.redaction import mask_pin


def order_filter_of(options):
    """--tenant-id / --provider-id as an OrderFilter. A bad id is a usage error (exit code 2),
    found before any other work."""
    return OrderFilter(
        tenant_id=uuid_option("--tenant-id", options["tenant_id"]),
        integration_id=uuid_option("--provider-id", options["provider_id"]),
    )


class Command(BaseCommand):
    help = "Check the status of due orders at their providers and store what they say."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            help=f"at most this many orders, {range_of('MONITOR_BATCH_LIMIT').describe()} "
            "(default MONITOR_BATCH_LIMIT)",
        )
        parser.add_argument("--order-id", help="check this one order now, whatever its next check time")
        parser.add_argument("--dry-run", action="store_true", help="show what would be checked; change nothing")
        parser.add_argument("--tenant-id", help='only orders of this tenant ("tenantId")')
        parser.add_argument("--provider-id", help='only orders sent to this integration ("providerId")')
        parser.add_argument(
            "--max-seconds",
            help="stop starting checks after this long (without --loop: at most one cycle, "
            "MONITOR_LOOP_CYCLE_SECONDS), with --loop the whole loop; "
            f"{range_of('MONITOR_MAX_SECONDS').describe()} (default MONITOR_MAX_SECONDS)",
        )
        parser.add_argument(
            "--metrics-file", help="write Prometheus metrics of the run here (node_exporter textfile collector)"
        )
        parser.add_argument(
            "--loop",
            action="store_true",
            help="keep checking orders as they come due until --max-seconds; --limit is per claim",
        )

    def handle(self, *args, **options):
        # Every option is read before any work: a bad one claims nothing.
        order_filter = order_filter_of(options)
        order_id = uuid_option("--order-id", options["order_id"])
        if order_id is not None and not order_filter.is_empty:
            raise CommandError(
                "--order-id checks one order; --tenant-id and --provider-id select due orders: use one or the other",
                returncode=USAGE_ERROR,
            )
        limit = setting_option("--limit", options["limit"], "MONITOR_BATCH_LIMIT")
        max_seconds = setting_option("--max-seconds", options["max_seconds"], "MONITOR_MAX_SECONDS")
        if options["dry_run"] and order_id is not None:
            raise CommandError(
                "--dry-run and --order-id do not go together: --order-id always checks", returncode=USAGE_ERROR
            )
        if options["loop"] and (options["dry_run"] or order_id is not None):
            raise CommandError("--loop does not go with --dry-run or --order-id", returncode=USAGE_ERROR)
        metrics_file = file_in_existing_directory("--metrics-file", options["metrics_file"])
        # The run's settings, read once, with the options in place of theirs.
        config = RunConfig.from_settings(None if limit is None else int(limit), max_seconds)
        try:
            if order_id is not None:
                self._check_one(order_id, config)
            elif options["dry_run"]:
                self._dry_run(config.limit, order_filter)
            else:
                self._run(config, options["verbosity"], metrics_file, options["loop"], order_filter)
        except DatabaseError as exc:
            raise CommandError(database_error_line(exc)) from None

    def _check_one(self, order_id, config):
        try:
            order, outcome = check_single_order(order_id, config)
        except OrderNotCheckable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(_describe_order(order, outcome))

    def _dry_run(self, limit, order_filter):
        due = preview_due_orders(timezone.now(), limit, order_filter)
        for order in due:
            self.stdout.write(
                f"would check {order.pk} provider={order.integration_id} ref={order.reference} "
                f"status={order.external_status} attempts={order.check_attempts}"
            )
        only = f" ({order_filter.describe()})" if not order_filter.is_empty else ""
        self.stdout.write(f"dry run: {len(due)} orders due{only}, nothing changed")

    def _run(self, config, verbosity, metrics_file, loop, order_filter):
        stop_event = threading.Event()
        final_orders = FinalOrders()
        received = []

        def on_signal(signum, frame):
            received.append(signum)
            stop_event.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            with order_lines_logged(verbosity >= 2), cron_check_in():
                if loop:
                    # The metrics file is rewritten at least once a minute while the loop runs.
                    progress = partial(self._write_metrics, metrics_file, final_orders=final_orders)
                    report = run_loop(
                        stop_event=stop_event,
                        on_checked=final_orders.observe,
                        on_progress=progress,
                        order_filter=order_filter,
                        config=config,
                    )
                else:
                    report = run_batch(
                        stop_event=stop_event, on_checked=final_orders.observe, order_filter=order_filter, config=config
                    )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(report.summary_line())
        self._write_metrics(metrics_file, report, final_orders)
        if received:
            self.stdout.flush()
            sys.exit(128 + received[0])

    def _write_metrics(self, path, report, final_orders):
        if not path:
            return
        try:
            write_run_metrics(path, report, StuckLimits.from_settings(), final_orders)
        except OSError as exc:
            # The run itself worked; a metrics problem is reported, not turned into a failed run.
            self.stderr.write(f"could not write metrics to {path}: {exc.strerror or exc}")


@contextmanager
def order_lines_logged(verbose):
    """-v 2: the per-order log lines (DEBUG, orders.transitions) for this run, whatever LOG_LEVEL
    says; each order appears once, in the log format (text or JSON), secrets redacted."""
    logger = logging.getLogger("orders")
    previous = logger.level
    if verbose and not logger.isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _describe_order(order, outcome):
    """--order-id: the order's state after the check; PIN masked."""
    parts = [
        f"order {order.pk}: {outcome}",
        f"externalStatus={order.external_status}",
        f"status={order.status}",
        f"pin={mask_pin(order.pin_code)}",
        f"attempts={order.check_attempts}",
    ]
    if order.next_check_at:
        parts.append(f"next_check_at={order.next_check_at.isoformat(timespec='seconds')}")
    if order.last_check_error:
        parts.append(f"last_check_error={order.last_check_error}")
    if order.last_message:
        parts.append(f"lastMessage={order.last_message}")
    return " ".join(parts)
