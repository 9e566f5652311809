"""Reading ids: an order id someone typed, and the integration ids `"providerId"` holds as text.

One reading everywhere, so that an id written in another form (upper case, braces, no hyphens)
names the same integration in the run, the health report and the admin.
"""

import uuid
from collections.abc import Iterable

from providers.models import Integration


class NotAnId(ValueError):
    """The text is not a UUID; the message says so in one line."""


def uuid_or_none(text: object) -> uuid.UUID | None:
    """`text` as a UUID, in any form `uuid.UUID` reads; None when it is not one."""
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def parse_uuid(text: object, what: str = "an order id") -> uuid.UUID:
    """`text` as a UUID; NotAnId ("'x' is not an order id (expected a UUID)") when it is not one."""
    value = uuid_or_none(text)
    if value is None:
        raise NotAnId(f"{text!r} is not {what} (expected a UUID)")
    return value


def integration_key(provider_id: object) -> str:
    """The one key of the integration a "providerId" text names, as the run finds it: the id in
    its canonical form when it is a UUID in any form, any other text as it is."""
    value = uuid_or_none(provider_id)
    return str(value) if value is not None else str(provider_id or "")


def integrations_by_id(id_texts: Iterable[str], only: tuple[str, ...] = ()) -> dict[str, Integration]:
    """{"providerId" text: Integration} in one query (loading the fields `only`, default all);
    texts that are not a known integration's id are left out."""
    ids = {text: value for text in set(id_texts) if (value := uuid_or_none(text)) is not None}
    integrations = Integration.objects.only(*only) if only else Integration.objects.all()
    found = integrations.in_bulk(set(ids.values()))
    return {text: found[value] for text, value in ids.items() if value in found}
