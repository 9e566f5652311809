"""Migration 0002 of providers: the live sizes on a database built by the migrations, and a live
`integrations` table left with its own types."""

import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

sizes_migration = importlib.import_module("providers.migrations.0002_live_column_sizes")

# The older application's table (tests/fixtures/legacy_schema.sql), "provider" varchar(40).
LEGACY_INTEGRATIONS = """
    CREATE TABLE integrations (
        id uuid PRIMARY KEY, "tenantId" uuid, name varchar(120) NOT NULL, provider varchar(40) NOT NULL,
        "baseUrl" varchar(255), "apiToken" varchar(255), kod varchar(64), sifre varchar(128),
        enabled boolean NOT NULL DEFAULT true, "createdAt" timestamp with time zone NOT NULL DEFAULT now()
    )
"""


def column_types(cursor):
    cursor.execute(
        "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'integrations' "
        "AND column_name IN ('name', 'provider', 'baseUrl', 'apiToken', 'kod', 'sifre')"
    )
    return {name: (data_type, size) for name, data_type, size in cursor.fetchall()}


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    """The provider choices are stored as a reference to providers.models.provider_choices, so
    registering a family (tests/providers/test_admin.py) needs no migration either."""
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())  # SystemExit(1) if not


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_database_built_by_the_migrations_has_the_live_sizes():
    with connection.cursor() as cursor:
        types = column_types(cursor)

    assert types == {
        "name": ("character varying", 120),
        "provider": ("character varying", 20),
        "baseUrl": ("character varying", 255),
        "apiToken": ("character varying", 255),
        "kod": ("character varying", 64),
        "sifre": ("character varying", 128),
    }


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_live_table_keeps_its_own_types():
    with connection.cursor() as cursor:
        # A schema of its own, dropped with the test's transaction.
        cursor.execute("CREATE SCHEMA legacy_copy")
        cursor.execute("SET LOCAL search_path TO legacy_copy")
        cursor.execute(LEGACY_INTEGRATIONS)
        before = column_types(cursor)
        with connection.schema_editor() as schema_editor:
            sizes_migration.narrow_text_columns(None, schema_editor)
        after = column_types(cursor)

    assert after == before
    assert after["provider"] == ("character varying", 40)
