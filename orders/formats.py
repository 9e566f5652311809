"""How times, ages and texts are written for people, the same in the admin and in
monitor_health (which adds its wording: health.text), and how the order admin shows errors,
provider texts and integrations: short, PINs masked, with the integration's name instead of its
raw id."""

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from providers.models import Integration
from providers.redaction import excerpt, mask_pin, mask_pins


def format_time(moment: datetime | None) -> str:
    """e.g. 2026-11-26 06:21:05+00:00, in local time for people: seconds matter when following
    checks and backoff. "-" for none, as the admin shows an empty value."""
    if moment is None:
        return "-"
    return timezone.localtime(moment).isoformat(sep=" ", timespec="seconds")


def iso(moment: datetime | None) -> str | None:
    """e.g. 2026-11-26T06:21:05+00:00, as stored, for the report's JSON and text; None stays None."""
    return moment.isoformat(timespec="seconds") if moment else None


def local_iso(stored: str) -> str:
    """A time the health report holds as ISO text, e.g. 2026-11-26T09:21:05+03:00, in local time."""
    return timezone.localtime(datetime.fromisoformat(stored)).isoformat(timespec="seconds")


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


EMPTY = "-"
SHORT_TEXT_LENGTH = 80


def shorten(text: str | None, length: int = SHORT_TEXT_LENGTH) -> str:
    """The text cut to `length` characters with an ellipsis, the whole of it in a tooltip."""
    if not text:
        return EMPTY
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}</span>', text, cut(text, length))


# A PIN shorter than this is not searched for in texts: it would mask ordinary words and numbers.
_MIN_PIN_IN_TEXT = 4


def without_pins(text: str | None, *pins: str | None) -> str | None:
    """`text` (a provider's message, an error that quotes an answer) with the order's own PINs
    masked wherever they appear, and anything it shows as a PIN (`pin=...`, znet's `OK|2|...`)."""
    if not text:
        return text
    for pin in sorted((p for p in pins if p and len(p) >= _MIN_PIN_IN_TEXT), key=len, reverse=True):
        text = text.replace(pin, mask_pin(pin))
    return mask_pins(text)


def integration_label(name: str | None, integration_id: str | None) -> str:
    """An integration in a line of text, by its name and id; an id no integration has, or none,
    said so."""
    if name:
        return f"{name} ({integration_id})"
    return f"{integration_id} (no such integration)" if integration_id else "(no provider)"


# What integration_link needs of an Integration (orders.queries.integrations_by_id loads no more).
LINKED_FIELDS = ("id", "name", "provider")


def integration_link(id_text: str | None, integration: Integration | None) -> str:
    """The integration's name, linked to its page; a "providerId" no integration has, as is."""
    if not id_text:
        return EMPTY
    if integration is None:
        return f"{id_text} (no such integration)"
    opts = Integration._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[integration.pk])
    return format_html('<a href="{}" title="{}">{}</a>', url, integration.pk, integration.name)
