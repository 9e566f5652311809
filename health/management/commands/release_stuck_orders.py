"""python manage.py release_stuck_orders [--dry-run]: make the stuck orders monitor_health reports
due now, so the next run checks them (and times out those past their 24 h).

Only orders whose next check lies beyond any lease of a running check are released, each with
a conditional update (health.stuck.release): a run holding a real lease, or one that claimed or
checked the order since it was read, is not disturbed. Held orders wait for an operator and are
never touched. Exit 0 whatever was released; 1 with one line when the database cannot be used.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from health.stuck import StuckLimits, StuckOrder, beyond_any_lease, is_releasable, release, stuck_orders
from orders.formats import iso
from orders.management.options import database_error_line

_REASON_WORDS = {
    "past_limit": "next check past its 24 h limit",
    "too_far_ahead": "next check further ahead than any lease",
    "too_old": "past its 24 h limit",
}


class Command(BaseCommand):
    help = "Make stuck orders (see monitor_health) due now; orders a running check may hold are left alone."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be released; change nothing")

    def handle(self, *args, **options):
        try:
            self._release(options["dry_run"])
        except DatabaseError as exc:
            raise CommandError(database_error_line(exc)) from None

    def _release(self, dry_run):
        now = timezone.now()
        limits = StuckLimits.from_settings()
        found = stuck_orders(now, limits)
        releasable = [order for order in found if is_releasable(order, now, limits)]
        released = changed = 0
        for order in releasable:
            if dry_run:
                self.stdout.write(f"would release {_describe(order)}")
            elif release(order, now, limits):
                released += 1
                self.stdout.write(f"released {_describe(order)}")
            else:
                changed += 1
                self.stdout.write(f"left {order.pk}: changed since it was read (a run took or checked it)")
        self.stdout.write(_summary(found, releasable, released, changed, dry_run, now, beyond_any_lease(now, limits)))


def _describe(order: StuckOrder) -> str:
    reasons = ", ".join(_REASON_WORDS[reason] for reason in order.reasons)
    since = _iso(order.age_from)
    return f"{order.pk}: next check {_iso(order.next_check_at)} -> now ({reasons}; age counted from {since})"


def _summary(found, releasable, released, changed, dry_run, now, leases_end):
    chosen = {order.pk for order in releasable}
    leased = [o for o in found if o.pk not in chosen and o.next_check_at is not None and o.next_check_at > now]
    due = len(found) - len(releasable) - len(leased)
    if dry_run:
        parts = [f"dry run: {len(found)} stuck, {len(releasable)} would be released"]
    else:
        parts = [f"{len(found)} stuck, {released} released"]
        if changed:
            parts.append(f"{changed} changed meanwhile and left alone")
    if leased:
        latest = max(order.next_check_at for order in leased)
        parts.append(
            f"{len(leased)} may be leased by a running check (next check before {_iso(leases_end)}), "
            f"left alone: due again by {_iso(latest)}"
        )
    if due:
        parts.append(f"{due} already due: the next run checks them (is cron running check_pending_orders?)")
    return "; ".join(parts) + ("; nothing changed" if dry_run else "")


def _iso(moment):
    return iso(moment) or "none"
