"""Which orders a run may take: all due orders, or only one tenant's, or one integration's
(`check_pending_orders --tenant-id / --provider-id`, as in the platform's older poll command:
operators use them after a provider outage or for one tenant).

A filter narrows the due query; it never widens it, and the claim keeps its order (oldest
first), its limit and its due index.
"""

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orders.models import OrderQuerySet


@dataclass(frozen=True)
class OrderFilter:
    tenant_id: uuid.UUID | None = None  # "tenantId" (uuid)
    integration_id: uuid.UUID | None = None  # "providerId": the integration's id

    def apply(self, orders: "OrderQuerySet") -> "OrderQuerySet":
        """`orders` (an OrderQuerySet) narrowed to this filter."""
        if self.tenant_id is not None:
            orders = orders.filter(tenant_id=self.tenant_id)
        if self.integration_id is not None:
            # Compared as text: some copies declare "providerId" uuid, others varchar.
            orders = orders.of_integration(str(self.integration_id))
        return orders

    @property
    def is_empty(self) -> bool:
        return self.tenant_id is None and self.integration_id is None

    def describe(self) -> str:
        """`tenant=... provider=...` for the output, or "" without a filter."""
        parts = []
        if self.tenant_id is not None:
            parts.append(f"tenant={self.tenant_id}")
        if self.integration_id is not None:
            parts.append(f"provider={self.integration_id}")
        return " ".join(parts)


# Every due order: the default of the claim and of run_batch.
NO_FILTER = OrderFilter()
