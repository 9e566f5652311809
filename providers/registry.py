"""Which client serves an integration: one table of `integrations.provider` name -> client class.

Adding a provider family means adding its client here; nothing registers itself on import.
"""

from providers.apstore.client import ApstoreClient
from providers.base import ProviderClient
from providers.internal.client import InternalClient
from providers.znet.client import ZnetClient

CLIENTS: dict[str, type[ProviderClient]] = {
    "znet": ZnetClient,
    "apstore": ApstoreClient,
    "barakat": ApstoreClient,  # barakat runs the apstore software
    "internal": InternalClient,  # another tenant of the same platform
}


class UnknownProvider(LookupError):
    pass


def client_class_for(provider_name: str | None) -> type[ProviderClient]:
    try:
        return CLIENTS[(provider_name or "").strip().lower()]
    except KeyError:
        raise UnknownProvider(f"no client for provider {provider_name!r}") from None


def known_providers() -> list[str]:
    return sorted(CLIENTS)
