"""What every provider integration offers the monitor: result types and the client interface.
The table of provider name -> client class is `providers.registry`."""

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from budgets.budget import request_gate
from providers.addresses import base_url_problem, build_session
from providers.redaction import excerpt, register_secret

if TYPE_CHECKING:  # providers.http imports the result types from here
    from providers.http import HttpLimits

# describe_error's longest text: enough for an operator, far less than an answer may hold.
DESCRIBED_ERROR_LENGTH = 300


class CheckState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"  # the provider failed or cancelled the order
    PROVIDER_ERROR = "provider_error"  # the provider refused the query (not the order)
    MALFORMED = "malformed"  # an answer we cannot read
    TRANSPORT_ERROR = "transport_error"  # no usable HTTP answer: connection, timeout, 5xx
    CONFIGURATION_ERROR = "configuration_error"  # credentials, access, integration setup


ERROR_STATES = frozenset(
    {CheckState.PROVIDER_ERROR, CheckState.MALFORMED, CheckState.TRANSPORT_ERROR, CheckState.CONFIGURATION_ERROR}
)


@dataclass(frozen=True)
class CheckResult:
    """One order's status as one provider answer told it."""

    state: CheckState
    pin: str | None = None
    message: str = ""
    code: str | None = None
    # A failure that retrying soon cannot fix (bad credentials, access off, unknown reference):
    # the order is rescheduled at the maximum backoff instead of being hammered.
    permanent: bool = False
    # IN_PROGRESS because the provider said a status word the monitor does not know (as said,
    # e.g. "on_hold"): the order is followed, never failed for it, and monitor_health lists it.
    unknown_status: str | None = None
    # The monitor's own words about the answer (e.g. "the tenant does not list this order yet"):
    # for last_check_error, never "providerMessage", which the customer sees and which holds
    # only what the provider said (`message`).
    note: str = ""
    # The provider said "too many requests" / "try later", or the request budget left no start
    # before the deadline: not an answer about the order, which is just due again (providers.fanout).
    throttled: bool = False

    @property
    def is_error(self):
        return self.state in ERROR_STATES

    def describe_error(self) -> str:
        """The operator-readable text stored in last_check_error and logged: short (a provider's
        error line may be as long as its answer), secrets masked before it is cut."""
        prefix = self.state.value.replace("_", " ")
        code = f" {self.code}" if self.code else ""
        text = f"{prefix}{code}: {self.message}" if self.message else f"{prefix}{code}"
        return excerpt(text, DESCRIBED_ERROR_LENGTH, provider_words=True)


@dataclass(frozen=True)
class PlaceRequest:
    """What the host application asks a provider to deliver for one order."""

    product: str  # znet: the catalog's oyun_bilgi_id; apstore, internal: the package id
    denomination: str = ""  # znet: kupur
    quantity: int = 1
    player_id: str = ""  # znet: musteri_tel (player id or phone); internal: user_identifier
    player_info: str = ""  # znet: oyuncu_bilgi; internal: extra_field


class PlaceState(enum.StrEnum):
    """What a place request achieved, as far as the answer (or its absence) tells."""

    ACCEPTED = "accepted"  # the provider took the order now
    DUPLICATE = "duplicate"  # the provider already has an order under this reference
    REFUSED = "refused"  # the provider said no: it has no order
    UNKNOWN = "unknown"  # the request may have arrived, the answer was lost or unreadable
    NOT_SENT = "not_sent"  # the request provably never left (no connection could be opened)


@dataclass(frozen=True)
class PlaceResult:
    """The provider's answer to placing an order."""

    state: PlaceState
    reference: str | None = None  # the order's id at the provider, when the answer names one
    message: str = ""
    # What the provider charged, when the answer says (znet's pin_ekle answers its dealer cost in
    # TRY). A cost without a currency is in the currency the order's cost is kept in.
    cost_amount: Decimal | None = None
    cost_currency: str | None = None
    # What the provider itself said (a refusal's reason), for "providerMessage"; `message` may be
    # the monitor's own summary.
    provider_text: str = ""
    # False when no request was made at all (the integration is not configured); NOT_SENT says
    # the same for a request that never left this host.
    requested: bool = True

    @property
    def request_sent(self):
        """A place request may have reached the provider: it counts as an attempt."""
        return self.requested and self.state != PlaceState.NOT_SENT

    @property
    def accepted(self):
        return self.state == PlaceState.ACCEPTED

    @property
    def provider_has_order(self):
        """Taken now or before (a repeated place request): the order is to be checked, never failed."""
        return self.state in (PlaceState.ACCEPTED, PlaceState.DUPLICATE)

    @property
    def uncertain(self):
        """We cannot know whether the provider took the order: it must not be placed again."""
        return self.state == PlaceState.UNKNOWN


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer to one harmless request (the admin's "test connection"), summarised for an
    operator: "OK: 12 products in the catalog", "refused: HTTP 401 ...". Never a secret."""

    ok: bool
    summary: str


NOT_MENTIONED_MESSAGE = "the provider's answer did not mention this order"


def not_mentioned():
    """A batch answer that left this order out: a failed check for that order only."""
    return CheckResult(CheckState.PROVIDER_ERROR, message=NOT_MENTIONED_MESSAGE)


def configuration_error(message):
    return CheckResult(CheckState.CONFIGURATION_ERROR, message=message, permanent=True)


class ProviderClient:
    """Base of one provider family's HTTP client, built for one integration.

    `batch_size` is how many references one status request may carry (1 for per-order APIs).
    `session_pool_size` is how many requests the caller sends to this integration at once: the
    client's `session` keeps that many connections open. `limits` (providers.http.HttpLimits) are
    the HTTP settings every request of the client follows, read by the caller's entry point.

    An integration that is not configured (`_configuration_problem`) is never asked: the public
    methods answer for it without a request. A family implements `_check_status` (per-order
    APIs) or `_check_statuses` (batch APIs), `_place_order` and `_check_connection`.
    """

    batch_size = 1
    # Whether our reference is also the order's "externalOrderId": true for a provider that
    # gives its orders no id of its own (znet is asked by our `referans`); otherwise the
    # provider's own order id from the place answer goes there.
    reference_is_external_id = False
    # The integration's credentials the family needs (the integration is not configured without
    # them); they are secrets, masked wherever a text could carry them (providers.redaction).
    credential_fields: tuple[str, ...] = ()

    def __init__(self, integration, session_pool_size: int = 8, *, limits: "HttpLimits"):
        # `integration`: a providers.models.Integration (not imported: the models import the registry).
        self.integration = integration
        self.limits = limits
        for name in self.credential_fields:
            register_secret(getattr(integration, name))
        self.base_url = (integration.base_url or "").strip().rstrip("/")
        self.session = build_session(session_pool_size)
        # Every request of the session passes the integration's request budget (providers.http).
        self.session.request_gate = request_gate(  # type: ignore[attr-defined]
            integration, limits.request_budgets, limits.request_seconds
        )

    def place_reference(self, order_id: uuid.UUID) -> str:
        """The reference a new order of ours is placed under. The client APIs (apstore, internal)
        take it as `order_uuid`, which must be a UUID: our order id as 32 hex digits."""
        return order_id.hex

    def reference_for(self, order: Any) -> str | None:
        """What a status check asks this provider about `order` (an orders.models.Order; not
        imported: the orders app imports the providers): its reference as stored."""
        return order.reference

    def check_statuses(self, references: Sequence[str], deadline: float | None = None) -> dict[str, CheckResult]:
        """Return {reference: CheckResult} for every reference asked about."""
        problem = self._configuration_problem()
        if problem:
            return dict.fromkeys(references, configuration_error(problem))
        return self._check_statuses(references, deadline)

    def check_connection(self, deadline: float | None = None) -> ConnectionCheck:
        """Make one request that changes nothing at the provider (a catalog, a balance) and
        summarise the answer: are the baseUrl and the credentials right?"""
        problem = self._configuration_problem()
        if problem:
            return ConnectionCheck(ok=False, summary=f"not configured: {problem}")
        return self._check_connection(deadline)

    def place_order(self, reference: str, request: PlaceRequest, deadline: float | None = None) -> PlaceResult:
        """Place one order under our `reference` (PlaceRequest in, PlaceResult out)."""
        problem = self._configuration_problem()
        if problem:
            return PlaceResult(PlaceState.REFUSED, message=problem, requested=False)
        return self._place_order(reference, request, deadline)

    def close(self) -> None:
        self.session.close()

    def _configuration_problem(self) -> str | None:
        """Why this integration cannot be asked at all (a missing baseUrl or credential), or None.
        Families add their own settings after the baseUrl."""
        if not self.base_url:
            return "integration has no baseUrl"
        problem = base_url_problem(self.base_url)  # a bad scheme, port or host: no request, ever
        if problem:
            return f"integration not usable: {problem}"
        if not all(getattr(self.integration, name) for name in self.credential_fields):
            return f"integration has no {'/'.join(self.credential_fields)}"
        return None

    def _check_statuses(self, references: Sequence[str], deadline: float | None) -> dict[str, CheckResult]:
        """Ask a configured provider about `references`: one request each, unless the family's
        API takes batches (it overrides this)."""
        return {reference: self._check_status(reference, deadline) for reference in references}

    def _check_status(self, reference: str, deadline: float | None) -> CheckResult:
        raise NotImplementedError

    def _check_connection(self, deadline: float | None) -> ConnectionCheck:
        raise NotImplementedError

    def _place_order(self, reference: str, request: PlaceRequest, deadline: float | None) -> PlaceResult:
        raise NotImplementedError
