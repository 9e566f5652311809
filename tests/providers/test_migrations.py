"""The providers app's migration: `integrations` with the live types on a database built by the
migrations, and a live `integrations` table left with its own types."""

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

initial = importlib.import_module("providers.migrations.0001_initial")

COLUMNS = ("name", "provider", "baseUrl", "apiToken", "kod", "sifre", "enabled", "tenantId", "createdAt")


def column_types(cursor):
    cursor.execute(
        "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = 'integrations' AND column_name = ANY(%s)",
        [list(COLUMNS)],
    )
    return {name: (data_type, size) for name, data_type, size in cursor.fetchall()}


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    """The provider choices are stored as a reference to providers.models.provider_choices, so
    registering a family (tests/providers/test_admin.py) needs no migration either."""
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())  # SystemExit(1) if not


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_database_built_by_the_migrations_has_the_live_types():
    with connection.cursor() as cursor:
        types = column_types(cursor)

    assert types == {
        "name": ("character varying", 120),
        "provider": ("character varying", 20),
        "baseUrl": ("character varying", None),
        "apiToken": ("character varying", None),
        "kod": ("character varying", None),
        "sifre": ("character varying", None),
        "enabled": ("boolean", None),
        "tenantId": ("uuid", None),
        "createdAt": ("timestamp with time zone", None),
    }


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_live_table_keeps_its_own_types_and_gets_only_what_it_lacks():
    with connection.cursor() as cursor:
        # A copy whose "provider" is wider and that lacks "tenantId" (undone with the test's transaction).
        cursor.execute('ALTER TABLE public.integrations ALTER COLUMN provider TYPE varchar(40), DROP COLUMN "tenantId"')
        with connection.schema_editor() as schema_editor:
            initial.build_integrations(apps, schema_editor)
        types = column_types(cursor)

    assert types["provider"] == ("character varying", 40)
    assert types["tenantId"] == ("uuid", None)
