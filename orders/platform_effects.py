"""What a final status means for the customer's money, as the platform's own status change does
it (the facts: docs/ARCHITECTURE.md, "What a check result does to an order").

- Approval: no balance moves (the price was taken when the order was created); the exchange
  rates of the day are frozen into the `*AtApproval` columns and the approval dates are set,
  which is what the platform's reports count and sum.
- Rejection: the order's price goes back to the customer, on `users` and on the matching
  `dj_users` account, with a `wallet_transactions` row; the ledger row that charged the order is
  marked rejected.

Both run inside the caller's transaction, under row locks taken in the platform's order (the
order first, then its `users` row, then the `dj_users` row), so two processes finalizing the same
order queue up and the second finds it final. Where the money cannot be moved exactly (no
"userId", a user of another tenant, no rate for the cost's currency, an order the platform has
already rejected), nothing is guessed: `MoneyUnsettled` says why, and the order is held for an
operator instead.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.db.models.functions import Lower

from orders.models import Order, PlatformStatus
from orders.platform_tables import Currency, Customer, LedgerUser, WalletTransaction

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")
# The platform counts an approval on its Istanbul date.
LOCAL_OFFSET = timedelta(hours=3)
# "durationMs" is an integer column.
MAX_DURATION_MS = 2**31 - 1
REFUND_TYPE = "rejected"
CHARGE_TYPE = "approved"


class MoneyUnsettled(Exception):
    """The final status cannot carry its money effects; the message says why, for the operator."""


@dataclass(frozen=True)
class Payer:
    customer: Customer
    ledger_user: LedgerUser | None  # the dj_users account, when one matches


def money(amount: Decimal | int | float | None) -> Decimal:
    """An amount as the platform rounds it: half up, to the cent."""
    return Decimal(str(amount or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def locked_payer(order: Order) -> Payer:
    """The customer who paid for `order` and their dj_users account, locked for update.
    Raises MoneyUnsettled when the order names no user of its own tenant."""
    if order.user_id is None:
        raise MoneyUnsettled('the order has no "userId": nobody to refund or charge')
    customer = Customer.objects.select_for_update().filter(pk=order.user_id).first()
    if customer is None:
        raise MoneyUnsettled(f'the order\'s "userId" {order.user_id} names no user')
    if customer.tenant_id is None or order.tenant_id is None or str(customer.tenant_id) != str(order.tenant_id):
        raise MoneyUnsettled(f"the order's user {customer.pk} is not of the order's tenant")
    return Payer(customer, _locked_ledger_user(customer))


def _locked_ledger_user(customer: Customer) -> LedgerUser | None:
    """The dj_users row of the same tenant whose email or username is the customer's (any case),
    the lowest id first."""
    same_person = Q(email_lower=customer.email.lower())
    if customer.username:
        same_person |= Q(username_lower=customer.username.lower())
    candidates = (
        LedgerUser.objects.filter(tenant_id=customer.tenant_id)
        .alias(email_lower=Lower("email"), username_lower=Lower("username"))
        .filter(same_person)
        .order_by("id")
    )
    return candidates.select_for_update().first()


# -- approval ---------------------------------------------------------------------------------


def approval_changes(order: Order, now: datetime) -> dict:
    """The columns an approval sets besides the status and times: unless the order's rates are
    already locked, the exchange-rate freeze. Raises MoneyUnsettled."""
    if order.status == PlatformStatus.REJECTED:
        # Its price was refunded; approving it would need a new charge the platform makes itself.
        raise MoneyUnsettled("the platform has already rejected (and refunded) this order")
    locked_payer(order)  # an order nobody paid for is never approved without an operator
    return {} if order.fx_locked else exchange_rate_freeze(order, now)


def exchange_rate_freeze(order: Order, now: datetime) -> dict:
    """The `*AtApproval` columns: the tenant's TRY rate of the day (units per 1 USD, 1 when it has
    none), the sell price (`price`, USD) and the provider's cost in TRY, the profit in TRY and USD."""
    rate = _try_rate(order.tenant_id)
    sell_try = money(Decimal(order.price or 0) * rate)
    cost_try = _cost_in_try(order, rate)
    profit_try = sell_try - cost_try
    local = now + LOCAL_OFFSET
    return {
        "fx_usd_try_at_approval": rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP),
        "sell_try_at_approval": sell_try,
        "cost_try_at_approval": cost_try,
        "profit_try_at_approval": profit_try,
        "profit_usd_at_approval": money(profit_try / rate),
        "approved_at": now,
        "approved_local_date": local.date(),
        "approved_local_month": local.strftime("%Y-%m"),
        "fx_captured_at": now,
        "fx_locked": True,
    }


def _rate_of(tenant_id, code: str) -> Decimal | None:
    row = Currency.objects.filter(tenant_id=tenant_id, code=code, is_active=True).order_by("id").first()
    return None if row is None or row.rate is None else Decimal(row.rate)


def _try_rate(tenant_id) -> Decimal:
    rate = _rate_of(tenant_id, "TRY")
    if rate is None:
        return Decimal(1)
    if rate <= 0:
        raise MoneyUnsettled(f"the tenant's TRY rate is {rate}: the approval's rates cannot be frozen")
    return rate


def _cost_in_try(order: Order, try_rate: Decimal) -> Decimal:
    """What the provider charged (the order's own cost), in TRY."""
    amount = Decimal(order.cost_amount or 0)
    if amount == 0:
        return money(0)
    code = (order.cost_currency or "USD").upper()
    if code == "TRY":
        return money(amount)
    if code == "USD":
        return money(amount * try_rate)
    rate = _rate_of(order.tenant_id, code)
    if rate is None or rate <= 0:
        raise MoneyUnsettled(f"no usable {code} rate for the tenant: the cost cannot be converted to TRY")
    return money(amount / rate * try_rate)


def duration_ms(order: Order, now: datetime) -> int | None:
    """Milliseconds from "sentAt" to completion; NULL without a sent time or past the column's range."""
    if order.sent_at is None:
        return None
    milliseconds = int((now - order.sent_at).total_seconds() * 1000)
    return milliseconds if 0 <= milliseconds <= MAX_DURATION_MS else None


# -- rejection --------------------------------------------------------------------------------


def check_refundable(order: Order) -> Payer:
    """Whom the order's price goes back to, locked (raises MoneyUnsettled when there is nobody
    to refund); `refund` moves it once the status change is written."""
    return locked_payer(order)


def refund(order: Order, payer: Payer, previous_status: str, now: datetime) -> None:
    """Give the order's price back to `payer` (check_refundable's, locked in this transaction):
    `users.balance` and the matching `dj_users.balance`, a "rejected" wallet_transactions row,
    and the order's charging row marked rejected. Only for an order that has just moved into
    "rejected" (the caller's conditional status write)."""
    amount = money(order.sell_price_amount)
    Customer.objects.filter(pk=payer.customer.pk).update(balance=payer.customer.balance + amount)
    ledger_user = payer.ledger_user
    if ledger_user is None:
        return
    balance_before = Decimal(ledger_user.balance)
    LedgerUser.objects.filter(pk=ledger_user.pk).update(balance=balance_before + amount)
    WalletTransaction.objects.create(
        user_id=ledger_user.pk,
        transaction_type=REFUND_TYPE,
        amount=amount,
        currency=ledger_user.currency,
        balance_before=balance_before,
        balance_after=balance_before + amount,
        description=f"Refund: order {order.pk} rejected by the provider",
        order_id=order.pk,
        created_at=now,
        metadata={"order_status": REFUND_TYPE, "previous_status": previous_status, "source": "order_monitor"},
    )
    _mark_charge_rejected(order, now)


def _mark_charge_rejected(order: Order, now: datetime) -> None:
    charge = (
        WalletTransaction.objects.select_for_update()
        .filter(order_id=order.pk, transaction_type=CHARGE_TYPE)
        .order_by("created_at", "id")
        .first()
    )
    if charge is None:
        return
    metadata = dict(charge.metadata or {})
    metadata.update(order_status=REFUND_TYPE, rejected_at=now.isoformat())
    WalletTransaction.objects.filter(pk=charge.pk).update(metadata=metadata)
