"""The platform's own tables that a final status touches: who pays for an order and where its
money is kept. The monitor reads and updates them (orders.platform_effects) and never inserts
into them except the wallet ledger; the live tables have many more columns, which the monitor
leaves alone. On a fresh database the migrations build these columns with the live types."""

import uuid
from decimal import Decimal

from django.db import models
from django.utils import timezone


class Tenant(models.Model):
    """`tenant`: one shop of the platform; orders, users and rates belong to one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    code = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(db_column="createdAt", default=timezone.now)

    class Meta:
        db_table = "tenant"

    def __str__(self):
        return self.name


class Customer(models.Model):
    """`users`: the customer an order's "userId" names; `balance` is in the customer's currency."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = models.UUIDField(db_column="tenantId", null=True, blank=True)
    email = models.CharField(max_length=255, unique=True)
    username = models.CharField(max_length=120, null=True, blank=True)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0), db_default=Decimal(0))

    class Meta:
        db_table = "users"

    def __str__(self):
        return self.email


class LedgerUser(models.Model):
    """`dj_users`: the platform's Django-side account of the same person (same tenant, same email
    or username), whose balance and wallet ledger move with `users`'."""

    id = models.BigAutoField(primary_key=True)
    tenant_id = models.UUIDField(null=True, blank=True)
    username = models.CharField(max_length=150, unique=True)
    email = models.CharField(max_length=254)
    balance = models.DecimalField(max_digits=18, decimal_places=6, default=Decimal(0))
    currency = models.CharField(max_length=10, default="USD")

    class Meta:
        db_table = "dj_users"

    def __str__(self):
        return self.username


class WalletTransaction(models.Model):
    """`wallet_transactions`: the ledger of a `dj_users` account. An order's creation row has
    type "approved"; a refund adds one of type "rejected"."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(LedgerUser, on_delete=models.DO_NOTHING, related_name="wallet_transactions")
    transaction_type = models.CharField(max_length=20)
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=10)
    balance_before = models.DecimalField(max_digits=18, decimal_places=6)
    balance_after = models.DecimalField(max_digits=18, decimal_places=6)
    description = models.CharField(max_length=500)
    order_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    metadata = models.JSONField(default=dict)

    class Meta:
        db_table = "wallet_transactions"


class Currency(models.Model):
    """`currencies`: a tenant's exchange rates, units of `code` per 1 USD."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = models.UUIDField(db_column="tenantId", null=True, blank=True)
    code = models.CharField(max_length=10)
    rate = models.DecimalField(max_digits=18, decimal_places=6, null=True, default=Decimal(1), db_default=Decimal(1))
    is_active = models.BooleanField(db_column="isActive", null=True, default=True, db_default=True)

    class Meta:
        db_table = "currencies"

    def __str__(self):
        return self.code
