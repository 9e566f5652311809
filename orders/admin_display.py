"""How the order admin shows times, ages, errors, provider texts and integrations: to the
second, short, PINs masked, and with the integration's name instead of its raw id."""

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from providers.models import Integration
from providers.redaction import excerpt, mask_pin, mask_pins

EMPTY = "-"
SHORT_TEXT_LENGTH = 80


def format_time(moment: datetime | None) -> str:
    """e.g. 2026-11-26 06:21:05+00:00: seconds matter when following checks and backoff."""
    if moment is None:
        return EMPTY
    return timezone.localtime(moment).isoformat(sep=" ", timespec="seconds")


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


def shorten(text: str | None, length: int = SHORT_TEXT_LENGTH) -> str:
    """The text cut to `length` characters with an ellipsis, the whole of it in a tooltip."""
    if not text:
        return EMPTY
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}</span>', text, excerpt(text, length, provider_words=True))


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


# What integration_link needs of an Integration (orders.ids.integrations_by_id loads no more).
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
