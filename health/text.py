"""The health report in words: the text `monitor_health` prints (`format_text`), and the words
for counts the problems share (health.rules). The report itself is health.report's;
times and ages are written as orders.formats writes them, as the admin does."""

from budgets.health import budget_bound_lines, budget_bound_rows, budget_lines
from hooks.health import webhook_lines
from orders.formats import cut, format_seconds, integration_label, iso, seconds_between
from schedules.book import SAMPLE_DAYS


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
        how_old = format_seconds(report.oldest_active_age_seconds)
        lines.append(f"oldest active order: {report.oldest_active_order_id}, {how_old} old")
    else:
        lines.append("oldest active order: none")
    lines.append(f"timed out in the last 24 h: {report.timed_out_last_24h}")
    failing = sum(row.orders for row in report.failing_integrations)
    lines.append(f"failing with permanent errors: {failing}")
    for row in report.failing_integrations:
        since = _ago(row.failing_since, seconds_between(row.failing_since, report.now))
        lines.append(f"  {row.label}: {row.orders} since {since}, e.g. {short_error(row.sample_error)}")
    lines += _operator_lines(report)
    if report.unknown_status_words:
        lines.append("status words the monitor does not know (followed as in progress):")
    for row in report.unknown_status_words:
        label = integration_label(row["name"], row["integration_id"])
        lines.append(f'  {label}: "{row["word"]}" ({active_orders(row["orders"])})')
    lines += stuck_lines(report)
    lines.append(f"check schedules (completed orders of the last {SAMPLE_DAYS} days):")
    for row in report.check_schedules:
        lines.append(f"  {integration_label(row['name'], row['integration_id'])}: {_schedule_text(row)}")
    lines += budget_bound_lines(budget_bound_rows(report.check_schedules), report.rules.check_budget)
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
        lines.append(f"  {row['order_id']} ({row['integration_id']}): {short_error(row['reason'])}")
    lines.append(f"timed out, waiting for an operator: {report.timed_out_waiting}")
    for row in report.timed_out_for_operator:
        lines.append(f"  {row['order_id']} ({row['integration_id']}), sent {row['sent_at']}")
    return lines


# --- Stuck orders (health.stuck) ---------------------------------------------------------


_STUCK_WORDS = {
    "past_limit": "next check past the {hours} limit plus the longest check gap",
    "too_far_ahead": "next check further ahead than any lease or check gap",
    "too_old": "older than the {hours} limit plus {minutes}",
}


def stuck_lines(report) -> list[str]:
    """The report's line of stuck orders, by reason."""
    return [f"stuck: {report.stuck.total}" + (f" ({stuck_reasons(report)})" if report.stuck.total else "")]


def stuck_reasons(report):
    """The stuck orders' reasons with their counts, those with none left out."""
    words = {"hours": max_age(report), "minutes": f"{report.overdue_minutes:g} minutes"}
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
    return f"{seconds:g} s" if seconds < 120 else format_seconds(seconds)


# --- Words the text and the problems (health.rules) share ----------------------------


def active_orders(n):
    """e.g. "1 active order", "3 active orders"."""
    return f"{n} active order" if n == 1 else f"{n} active orders"


def count_orders(n):
    """e.g. "1 order", "3 orders"."""
    return "1 order" if n == 1 else f"{n} orders"


def short_error(text, limit=120):
    """An error or hold reason quoted in a line of the report."""
    return cut(text or "no error text", limit)


def max_age(report):
    """The 24 h limit as the report words it."""
    return f"{report.rules.max_age_hours:g} h"


def _ago(moment, seconds):
    return f"{iso(moment)} ({format_seconds(seconds)} ago)" if moment else "never"
