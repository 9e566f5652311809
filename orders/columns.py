"""Values written to the live table must fit its declared column sizes (orders.models.Order).

Messages are shortened with an ellipsis; a PIN is never shortened (orders.transitions holds an
order whose PIN does not fit instead of completing it with a cut PIN).
"""

from django.db.models import Field

from orders.models import Order
from providers.redaction import ELLIPSIS, excerpt

__all__ = ["ELLIPSIS", "fit", "fits", "max_length"]


def max_length(field_name: str) -> int | None:
    """The declared size of an Order field, None for text columns."""
    field = Order._meta.get_field(field_name)
    assert isinstance(field, Field), f"{field_name} is not a column of product_orders"
    return field.max_length


def fits(field_name: str, value: str | None) -> bool:
    size = max_length(field_name)
    return value is None or size is None or len(value) <= size


def fit(field_name: str, value: str | None) -> str | None:
    """`value` shortened to the size of `field_name`'s column, ending in an ellipsis when cut; the
    registered secrets are masked before it is cut (providers.redaction.excerpt)."""
    size = max_length(field_name)
    if value is None or size is None:
        return value
    return excerpt(value, size, provider_words=True)
