"""The health report in words: the problems that make the monitor degraded (`find_problems`) and
the text `monitor_health` prints (`format_text`). The report itself is orders.health's."""

from datetime import timedelta

from django.conf import settings

from budgets.health import budget_bound_lines, budget_bound_rows, budget_lines
from hooks.health import webhook_lines
from orders.admin_display import format_age
from providers.redaction import excerpt
from schedules.book import SAMPLE_DAYS


def find_problems(report, cutoff):
    problems = []
    minutes = f"{report.overdue_minutes:g} minutes"
    if report.overdue:
        problems.append(
            f"overdue backlog: {_orders(report.overdue)} overdue by more than {minutes} "
            "(is cron running check_pending_orders?)"
        )
    if report.last_success_at is None:
        problems.append("no successful check_pending_orders run recorded")
    elif report.last_success_at < cutoff:
        last = iso(report.last_success_at)
        problems.append(f"no successful check_pending_orders run in the last {minutes} (last at {last})")
    for row in report.failing_integrations:
        if row.failing_too_long:
            problems.append(
                f"{row.label}: {_orders(row.failing_too_long)} failing with a permanent error for more than "
                f"{minutes} (e.g. {_short(row.sample_error)}); retrying will not help: fix the integration or "
                f'the orders before they fail {_max_age()} after sending (docs/OPERATIONS.md, "Permanent errors")'
            )
    if report.held_for_operator:
        problems.append(
            f"{_orders(report.held_for_operator)} held for an operator, e.g. {_short(report.held_orders[0]['reason'])} "
            '(docs/OPERATIONS.md, "Orders held for an operator")'
        )
    if report.timed_out_waiting:
        problems.append(
            f"{_count(report.timed_out_waiting)} timed out after {_max_age()} without a final answer, "
            'still pending and not refunded: refund or wait (docs/OPERATIONS.md, "Orders that timed out")'
        )
    problems += stuck_problems(report)
    return problems


def format_text(report):
    lines = [f"order monitor: {'healthy' if report.healthy else 'DEGRADED'} at {iso(report.now)}"]
    lines += [f"  problem: {problem}" for problem in report.problems]
    by_status = ", ".join(f"{status} {n}" for status, n in report.active_by_status.items()) or "none"
    lines.append(f"active orders: {report.active_total} ({by_status})")
    for row in report.active_by_provider:
        lines.append(f"  {integration_label(row['name'], row['provider_id'])}: {row['active']}")
    lines.append(f"due now: {report.due_now}")
    lines.append(f"overdue by more than {report.overdue_minutes:g} minutes: {report.overdue}")
    if report.oldest_active_order_id:
        how_old = _duration(report.oldest_active_age_seconds)
        lines.append(f"oldest active order: {report.oldest_active_order_id}, {how_old} old")
    else:
        lines.append("oldest active order: none")
    lines.append(f"timed out in the last 24 h: {report.timed_out_last_24h}")
    failing = sum(row.orders for row in report.failing_integrations)
    lines.append(f"failing with permanent errors: {failing}")
    for row in report.failing_integrations:
        since = _ago(row.failing_since, seconds_between(row.failing_since, report.now))
        lines.append(f"  {row.label}: {row.orders} since {since}, e.g. {_short(row.sample_error)}")
    lines += _operator_lines(report)
    if report.unknown_status_words:
        lines.append("status words the monitor does not know (followed as in progress):")
    for row in report.unknown_status_words:
        label = integration_label(row["name"], row["integration_id"])
        lines.append(f'  {label}: "{row["word"]}" ({_orders(row["orders"])})')
    lines += stuck_lines(report)
    lines.append(f"check schedules (completed orders of the last {SAMPLE_DAYS} days):")
    for row in report.check_schedules:
        lines.append(f"  {integration_label(row['name'], row['integration_id'])}: {_schedule_text(row)}")
    lines += budget_bound_lines(budget_bound_rows(report.check_schedules))
    lines += budget_lines(report.budgets)
    lines += webhook_lines(report.webhooks)
    lines.append(f"last successful run: {_ago(report.last_success_at, report.seconds_since_last_success)}")
    if report.last_run_at and not report.last_run_succeeded:
        lines.append(f"last run: {iso(report.last_run_at)} (did not succeed)")
    return "\n".join(lines)


def _operator_lines(report):
    """The orders waiting for an operator: held ones, and those the 24 h rule stopped."""
    lines = [f"held for an operator: {report.held_for_operator}"]
    for row in report.held_orders:
        lines.append(f"  {row['order_id']} ({row['integration_id']}): {_short(row['reason'])}")
    lines.append(f"timed out, waiting for an operator: {report.timed_out_waiting}")
    for row in report.timed_out_for_operator:
        lines.append(f"  {row['order_id']} ({row['integration_id']}), sent {row['sent_at']}")
    return lines


# --- Stuck orders (orders.stuck) ---------------------------------------------------------


_STUCK_WORDS = {
    "past_limit": "next check past the {hours} limit plus the longest check gap",
    "too_far_ahead": "next check further ahead than any lease or check gap",
    "too_old": "older than the {hours} limit plus {minutes}",
}


def stuck_problems(report) -> list[str]:
    """The problem line of the stuck orders, if any."""
    if not report.stuck.total:
        return []
    return [
        f"{_orders(report.stuck.total)} stuck ({_stuck_reasons(report)}): no run will check them in time; "
        'release_stuck_orders makes them due now (docs/OPERATIONS.md, "Stuck orders")'
    ]


def stuck_lines(report) -> list[str]:
    """The report's line of stuck orders, by reason."""
    return [f"stuck: {report.stuck.total}" + (f" ({_stuck_reasons(report)})" if report.stuck.total else "")]


def _stuck_reasons(report):
    words = {"hours": _max_age(), "minutes": f"{report.overdue_minutes:g} minutes"}
    counts = report.stuck.as_dict()
    return ", ".join(
        f"{text.format(**words)}: {counts[reason]}" for reason, text in _STUCK_WORDS.items() if counts[reason]
    )


# ------------------------------------------------------------------------------------------


def _schedule_text(row):
    first = f"first check {_seconds(row['first_check_seconds'])} after sending"
    if row["learned"]:
        return f"median completion {_seconds(row['median_completion_seconds'])} ({row['samples']} orders), {first}"
    if row["samples"]:
        median = _seconds(row["median_completion_seconds"])
        return f"median completion {median} ({row['samples']} orders, too few to learn from), {first} (default)"
    return f"no completed orders, {first} (default)"


def _seconds(seconds):
    return f"{seconds:g} s" if seconds < 120 else _duration(seconds)


def _orders(n):
    return f"{n} active order" if n == 1 else f"{n} active orders"


def _count(n):
    return "1 order" if n == 1 else f"{n} orders"


def integration_label(name, integration_id):
    if name:
        return f"{name} ({integration_id})"
    return f"{integration_id} (no such integration)" if integration_id else "(no provider)"


def _short(text, limit=120):
    text = text or "no error text"
    return excerpt(text, limit, provider_words=True)


def _max_age():
    return f"{settings.MONITOR_MAX_AGE_HOURS:g} h"


def seconds_between(earlier, later):
    return None if earlier is None else round((later - earlier).total_seconds(), 3)


def iso(moment):
    return moment.isoformat(timespec="seconds") if moment else None


def _ago(moment, seconds):
    return f"{iso(moment)} ({_duration(seconds)} ago)" if moment else "never"


def _duration(seconds):
    # The admin's way of writing an age, so the two never disagree.
    return format_age(timedelta(seconds=seconds))
