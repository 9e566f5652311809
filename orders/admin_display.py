"""How the order admin shows errors, provider texts and integrations: short, PINs masked, and
with the integration's name instead of its raw id. Times and ages are orders.formats'."""

from django.urls import reverse
from django.utils.html import format_html

from orders.formats import cut
from providers.models import Integration
from providers.redaction import mask_pin, mask_pins

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
