"""When the order monitor is degraded: the problems `monitor_health` names (health.report
builds the report they are found in; health.text words their counts the way the report's
text does).

The monitor is degraded when
  - orders are overdue: active orders sent to a provider whose next check time (or, when it is
    NULL, sentAt/createdAt) lies more than MONITOR_OVERDUE_MINUTES in the past, or
  - no check_pending_orders run succeeded within the last MONITOR_OVERDUE_MINUTES.
Both mean cron is not running the monitor, or its runs keep failing. It is degraded too when
  - active orders have failed with permanent or configuration errors (bad credentials, unknown
    reference, disabled, missing or unknown integration) for longer than
    MONITOR_OVERDUE_MINUTES: runs go on, but retrying will not help and the orders head for the
    24 h failure, or
  - orders are held for an operator (hold_reason: a PIN too long for "pinCode", a final answer
    whose money cannot be moved exactly), or
  - orders timed out waiting for their provider ("externalStatus" failed, `status` still
    pending, nothing refunded): an operator decides whether to refund or wait, or
  - active orders are stuck (health.stuck): their next check lies past their 24 h limit or
    further ahead than any lease or check gap, or they are past their limit and not timed out.
"""

from health.text import active_orders, count_orders, max_age, short_error, stuck_reasons
from orders.formats import iso


def find_problems(report, cutoff) -> list[str]:
    minutes = f"{report.overdue_minutes:g} minutes"
    problems = _backlog_problems(report, cutoff, minutes)
    for row in report.failing_integrations:
        if row.failing_too_long:
            problems.append(
                f"{row.label}: {active_orders(row.failing_too_long)} failing with a permanent error for more than "
                f"{minutes} (e.g. {short_error(row.sample_error)}); retrying will not help: fix the integration or "
                f'the orders before they fail {max_age(report)} after sending (docs/OPERATIONS.md, "Permanent errors")'
            )
    if report.held_for_operator:
        reason = short_error(report.held_orders[0]["reason"])
        problems.append(
            f"{active_orders(report.held_for_operator)} held for an operator, e.g. {reason} "
            '(docs/OPERATIONS.md, "Orders held for an operator")'
        )
    if report.timed_out_waiting:
        problems.append(
            f"{count_orders(report.timed_out_waiting)} timed out after {max_age(report)} without a final answer, "
            'still pending and not refunded: refund or wait (docs/OPERATIONS.md, "Orders that timed out")'
        )
    return problems + stuck_problems(report)


def _backlog_problems(report, cutoff, minutes) -> list[str]:
    """Cron is not running the monitor, or its runs keep failing."""
    problems = []
    if report.overdue:
        problems.append(
            f"overdue backlog: {active_orders(report.overdue)} overdue by more than {minutes} "
            "(is cron running check_pending_orders?)"
        )
    if report.last_success_at is None:
        problems.append("no successful check_pending_orders run recorded")
    elif report.last_success_at < cutoff:
        last = iso(report.last_success_at)
        problems.append(f"no successful check_pending_orders run in the last {minutes} (last at {last})")
    return problems


def stuck_problems(report) -> list[str]:
    """The problem line of the stuck orders, if any."""
    if not report.stuck.total:
        return []
    return [
        f"{active_orders(report.stuck.total)} stuck ({stuck_reasons(report)}): no run will check them in time; "
        'release_stuck_orders makes them due now (docs/OPERATIONS.md, "Stuck orders")'
    ]
