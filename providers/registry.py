"""Which client serves an integration: one table of `integrations.provider` name -> client class,
and the clients one cycle builds from it (`CycleClients`).

Adding a provider family means adding its client here; nothing registers itself on import.
"""

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from providers.apstore.client import ApstoreClient
from providers.base import CheckResult, ProviderClient, configuration_error
from providers.http import HttpLimits
from providers.internal.client import InternalClient
from providers.models import Integration
from providers.redaction import excerpt
from providers.znet.client import ZnetClient

if TYPE_CHECKING:  # the orders app imports the providers, not the other way round
    from orders.models import Order

log = logging.getLogger(__name__)

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


class CycleClients:
    """The clients of one cycle: one per integration, built in the calling thread (a client reads
    its integration's request budget), its session's pool `per_integration` wide, closed together."""

    def __init__(self, per_integration: int, limits: HttpLimits):
        self._per_integration = per_integration
        self._limits = limits
        self._clients: dict[object, ProviderClient] = {}

    def sort(
        self, orders: Sequence["Order"], integrations: Mapping[str, Integration]
    ) -> tuple[list[tuple[ProviderClient, list["Order"]]], list[tuple["Order", CheckResult]]]:
        """(client, its orders) for the orders a provider can answer (`integrations`: {"providerId"
        text: Integration}, as orders.queries reads them), and the answers of the others (no
        reference, an unknown or disabled integration, a client that cannot be built):
        configuration errors."""
        by_client: dict[int, tuple[ProviderClient, list[Order]]] = {}
        unanswerable: list[tuple[Order, CheckResult]] = []
        for order in orders:
            integration = integrations.get(order.integration_id)
            client, problem = self._client_for(order, integration)
            if client is None:
                unanswerable.append((order, configuration_error(problem)))
                continue
            by_client.setdefault(id(client), (client, []))[1].append(order)
        return list(by_client.values()), unanswerable

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def _client_for(self, order, integration) -> tuple[ProviderClient | None, str]:
        problem = _why_unanswerable(order, integration)
        if problem or integration is None:
            return None, problem or "integration not found"
        if integration.pk not in self._clients:
            try:
                built = client_class_for(integration.provider)(integration, self._per_integration, limits=self._limits)
            except UnknownProvider:
                return None, f"integration {integration.pk} has unknown provider {integration.provider!r}"
            except Exception as exc:  # a bad setting of one integration must not stop the others
                problem = f"integration {integration.pk}: its client cannot be built: {type(exc).__name__}"
                log.error("%s: %s", problem, excerpt(str(exc), 200))
                return None, problem
            self._clients[integration.pk] = built
        return self._clients[integration.pk], ""


def _why_unanswerable(order, integration) -> str | None:
    if not order.reference:
        return "order has no provider reference (provider_referans / externalOrderId)"
    if integration is None:
        return f"integration {order.integration_id!r} not found"
    if not integration.is_enabled:
        return f"integration {integration.name!r} ({integration.pk}) is disabled"
    return None
