"""Extra PostgreSQL databases for tests: copies of the older application's schema, named after
the test database (`test_<name>_legacy_<hex>`) so that a shared server's naming rules hold, and
dropped when the test ends, passed or failed (the `legacy_databases` fixture in conftest.py)."""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2 import sql

from tests.commands import PROJECT_DIR, run_command

LEGACY_SCHEMA = Path(__file__).parent / "fixtures" / "legacy_schema.sql"
UPGRADE_SCRIPT = PROJECT_DIR / "sql" / "upgrade_existing_database.sql"
POSTGRES_MAX_NAME_LENGTH = 63


@dataclass
class LegacyDatabase:
    name: str
    url: str  # DATABASE_URL for commands run against it
    connection: "psycopg2.extensions.connection | None" = None  # autocommit


@dataclass
class LegacyDatabases:
    """Creates databases on the test database's server; `drop_all` removes every one it made."""

    test_database: dict  # django.db.connection.settings_dict of the test database
    created: list = field(default_factory=list)

    def server_params(self) -> dict:
        db = self.test_database
        return {
            "user": db.get("USER") or "postgres",
            "host": db.get("HOST") or "127.0.0.1",
            "port": db.get("PORT") or 5432,
        }

    def create(self, schema_sql: str | None = None) -> LegacyDatabase:
        """A new database, with the older application's tables unless `schema_sql` says otherwise."""
        name = f"{self.test_database['NAME']}_legacy_{uuid.uuid4().hex[:10]}"
        assert len(name) <= POSTGRES_MAX_NAME_LENGTH, f"database name too long for PostgreSQL: {name}"
        with self._server() as server:
            server.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        params = self.server_params()
        database = LegacyDatabase(name, f"postgres://{params['user']}@{params['host']}:{params['port']}/{name}")
        self.created.append(database)  # from here on, drop_all removes it whatever fails next
        database.connection = psycopg2.connect(dbname=name, **params)
        database.connection.autocommit = True
        database.connection.cursor().execute(LEGACY_SCHEMA.read_text() if schema_sql is None else schema_sql)
        return database

    def create_upgraded(self, schema_sql: str | None = None) -> LegacyDatabase:
        """A new database as `create` makes it, upgraded as docs/UPGRADING.md says: the upgrade
        script, then `migrate --fake-initial`."""
        database = self.create(schema_sql)
        database.connection.cursor().execute(UPGRADE_SCRIPT.read_text())
        code, _, stderr = run_command("migrate", "--fake-initial", "-v", "0", DATABASE_URL=database.url)
        assert code == 0, stderr
        return database

    def drop_all(self) -> None:
        with self._server() as server:
            while self.created:
                database = self.created.pop()
                if database.connection is not None:
                    database.connection.close()
                # FORCE: a command a failed test left running may still be connected.
                server.cursor().execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.name))
                )

    @contextmanager
    def _server(self):
        """An autocommit connection to the server's `postgres` database, for CREATE/DROP DATABASE."""
        connection = psycopg2.connect(dbname="postgres", **self.server_params())
        connection.autocommit = True
        try:
            yield connection
        finally:
            connection.close()
