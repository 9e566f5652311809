"""How times, ages and texts are written, the same in the admin and in monitor_health: the admin
adds its HTML (orders.admin_display), the health report its wording (health.text)."""

from datetime import datetime, timedelta

from django.utils import timezone

from providers.redaction import excerpt


def format_time(moment: datetime | None) -> str:
    """e.g. 2026-11-26 06:21:05+00:00, in local time for people: seconds matter when following
    checks and backoff. "-" for none, as the admin shows an empty value."""
    if moment is None:
        return "-"
    return timezone.localtime(moment).isoformat(sep=" ", timespec="seconds")


def iso(moment: datetime | None) -> str | None:
    """e.g. 2026-11-26T06:21:05+00:00, as stored, for the report's JSON and text; None stays None."""
    return moment.isoformat(timespec="seconds") if moment else None


def format_age(age: timedelta) -> str:
    """e.g. "47 min 5 s", "3 h 12 min", "2 d 4 h"."""
    seconds = int(max(age.total_seconds(), 0))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def format_seconds(seconds: float) -> str:
    """An age given in seconds, written as format_age writes it."""
    return format_age(timedelta(seconds=seconds))


def seconds_between(earlier: datetime | None, later: datetime) -> float | None:
    """Seconds from `earlier` to `later`, to the millisecond; None when `earlier` is."""
    return None if earlier is None else round((later - earlier).total_seconds(), 3)


def cut(text: str, length: int) -> str:
    """A provider's or the monitor's text at most `length` characters long, credentials masked,
    ending in "…" when cut (providers.redaction.excerpt)."""
    return excerpt(text, length, provider_words=True)
