"""Test factories: integrations and orders as the tests need them. Fixtures stay in conftest.py;
what a test module imports comes from here (or tests/commands.py)."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from orders.models import ExternalStatus, Order
from orders.platform_tables import Customer, LedgerUser, Tenant

# The dealer code and password of the znet sandbox the `sandbox` fixture starts.
SANDBOX_KOD = "bayi-4821"
SANDBOX_SIFRE = "s3cr3t-Sifre-9917"


def _integration_id(integration) -> str:
    """The "providerId" text of an Integration, or the text given."""
    return integration if isinstance(integration, str) else str(integration.pk)


def customer_fields(tenant_id=None, balance=Decimal("100.00")) -> dict:
    """ "tenantId" and "userId" of a customer of `tenant_id` (default: the test shop) who paid for
    the order: a tenant, its `users` row and the matching `dj_users` account, made once per tenant
    and test database. What a final status needs to move its money."""
    tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id else Tenant.objects.filter(code="shop").first()
    if tenant is None:
        code = f"shop-{uuid.UUID(str(tenant_id)).hex[:12]}" if tenant_id else "shop"
        tenant = Tenant.objects.create(name="Test shop", code=code, **({"id": tenant_id} if tenant_id else {}))
    customer = Customer.objects.filter(tenant_id=tenant.pk).order_by("email").first()
    if customer is None:
        email = f"customer-{uuid.UUID(str(tenant.pk)).hex[:12]}@example.test"
        customer = Customer.objects.create(tenant_id=tenant.pk, email=email, username=email, balance=balance)
        LedgerUser.objects.create(tenant_id=tenant.pk, username=email, email=email, balance=balance)
    return {"tenant_id": tenant.pk, "user_id": customer.pk}


def sent_order_values(integration="x", reference=None, sent_ago=timedelta(minutes=5), **fields) -> dict:
    """The columns of an order sent to `integration` (an Integration or a "providerId" text)
    `sent_ago` before now (None: no "sentAt") under `reference` (default: a new one); `fields`
    set any other column."""
    values = {
        "external_status": ExternalStatus.SENT,
        "integration_id": _integration_id(integration),
        "provider_referans": reference or uuid.uuid4().hex,
        "sent_at": timezone.now() - sent_ago if sent_ago is not None else None,
    }
    return values | fields


def sent_order(integration="x", reference=None, sent_ago=timedelta(minutes=5), **fields) -> Order:
    """An order as stored, not saved: for the pure planning functions."""
    return Order(**sent_order_values(integration, reference, sent_ago, **fields))


def orders_known_to_sandbox(sandbox, integration, count, **sandbox_options) -> list[Order]:
    """`count` sent orders of the test customer, not saved, each known to the znet `sandbox`
    (added with `sandbox_options`): for bulk_create."""
    orders = []
    payer = customer_fields()
    for _ in range(count):
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, **sandbox_options)
        orders.append(sent_order(integration, reference, **payer))
    return orders


def create_sent_order(integration="x", reference=None, sent_ago=timedelta(minutes=5), **fields) -> Order:
    """A sent order of the test customer (unless `fields` name another "userId"), saved."""
    if "user_id" not in fields:
        fields = customer_fields(fields.get("tenant_id")) | fields
    return Order.objects.create(**sent_order_values(integration, reference, sent_ago, **fields))


def create_order_at_sandbox(
    sandbox, integration, outcome="completed", checks_until_final=1, pin=None, sent_ago=timedelta(minutes=5), **fields
) -> Order:
    """A sent order the znet `sandbox` knows: it answers `outcome` at the `checks_until_final`-th check."""
    reference = uuid.uuid4().hex
    sandbox.add_order(reference, outcome=outcome, pin=pin, checks_until_final=checks_until_final)
    return create_sent_order(integration, reference, sent_ago, **fields)


def create_unsent_order(integration) -> Order:
    """An order not sent yet (externalStatus not_sent), for dispatch."""
    return Order.objects.create(
        external_status=ExternalStatus.NOT_SENT, integration_id=_integration_id(integration), **customer_fields()
    )


# -- rows as the platform writes them (raw SQL into a copy of the live database) -----------------------


def legacy_tenant(cursor, code="shop") -> str:
    """The tenant of `code` (created if missing): product_orders."tenantId" is NOT NULL with a
    foreign key to tenant. Its id as text."""
    cursor.execute(
        """INSERT INTO tenant (name, code) VALUES (%s, %s)
           ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id""",
        (f"Shop {code}", code),
    )
    return str(cursor.fetchone()[0])


def legacy_customer(cursor, tenant_id) -> str:
    """The customer (`users`) of the tenant who buys the tenant's test orders (created if missing,
    balance 100). Its id as text."""
    cursor.execute(
        """INSERT INTO users (email, username, balance, "tenantId", role) VALUES (%s, %s, 100, %s, 'user')
           ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id""",
        (f"customer-{tenant_id}@example.com", f"customer-{str(tenant_id)[:8]}", tenant_id),
    )
    return str(cursor.fetchone()[0])


def legacy_integration(cursor, base_url, name="znet", enabled=True, tenant_id=None) -> str:
    """A znet integration of the tenant (default: `legacy_tenant`'s) with the sandbox's
    credentials; its id as text."""
    cursor.execute(
        """INSERT INTO integrations (name, provider, "baseUrl", kod, sifre, enabled, "tenantId")
           VALUES (%s, 'znet', %s, %s, %s, %s, %s) RETURNING id""",
        (name, base_url, SANDBOX_KOD, SANDBOX_SIFRE, enabled, tenant_id or legacy_tenant(cursor)),
    )
    return str(cursor.fetchone()[0])


def legacy_sent_order(cursor, integration_id, reference="ref", external_status="sent", tenant_id=None) -> str:
    """An order as the platform inserts and places it (it knows none of the monitor's columns):
    of a customer of the tenant (default: `legacy_tenant`'s), its price, cost and one place
    attempt, the provider's reference in "externalOrderId", sent 5 minutes ago. `integration_id`
    None leaves "providerId" NULL. Its id as text."""
    tenant_id = tenant_id or legacy_tenant(cursor)
    cursor.execute(
        """INSERT INTO product_orders ("tenantId", "userId", quantity, "sellPriceCurrency", "sellPriceAmount",
               price, "costCurrency", "costAmount", status, "externalStatus", "providerId", "externalOrderId",
               attempts, "sentAt")
           VALUES (%s, %s, 1, 'USD', 1.50, 1.50, 'USD', 1.20, 'pending', %s, %s, %s, 1, NOW() - INTERVAL '5 minutes')
           RETURNING id""",
        (
            tenant_id,
            legacy_customer(cursor, tenant_id),
            external_status,
            None if integration_id is None else str(integration_id),
            reference,
        ),
    )
    return str(cursor.fetchone()[0])
