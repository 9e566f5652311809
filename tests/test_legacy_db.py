"""tests/legacy_db.py: extra databases follow the test database's name and never outlive a test."""

import psycopg2
import pytest
from django.db import connection

from tests.legacy_db import LegacyDatabases

pytestmark = pytest.mark.postgres


def existing(databases, names):
    with databases._server() as server:
        cursor = server.cursor()
        cursor.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (names,))
        return {row[0] for row in cursor.fetchall()}


def test_databases_are_named_after_the_test_database_and_all_dropped(django_db_setup):
    test_name = connection.settings_dict["NAME"]
    assert test_name.startswith("test_")
    databases = LegacyDatabases(dict(connection.settings_dict))
    made = databases.create()
    with pytest.raises(psycopg2.Error):  # a test that fails half-way through its setup
        databases.create(schema_sql="CREATE TABLE broken (")
    names = [database.name for database in databases.created]
    assert len(names) == 2 and all(name.startswith(f"{test_name}_legacy_") for name in names)
    assert existing(databases, names) == set(names)
    made.connection.cursor().execute("SELECT COUNT(*) FROM product_orders")  # the old schema is there

    left_open = psycopg2.connect(dbname=made.name, **databases.server_params())  # e.g. a command still running
    databases.drop_all()

    assert existing(databases, names) == set()
    assert databases.created == []
    left_open.close()
