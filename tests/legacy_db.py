"""Extra PostgreSQL databases for tests: copies of the platform's live database (the tables as the
platform's own migrations build them, tests/fixtures/live_schema.sql), optionally with the
platform's own Django bookkeeping in public (tests/fixtures/platform_django.sql), or a previous
monitor installation (tests/fixtures/previous_installation.sql). Each is named after the test
database (`test_<name>_legacy_<hex>`) so that a shared server's naming rules hold, and dropped
when the test ends, passed or failed (the `legacy_databases` fixture in conftest.py)."""

import re
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2 import sql

from tests.commands import PROJECT_DIR, run_command

FIXTURES = Path(__file__).parent / "fixtures"
LIVE_SCHEMA = FIXTURES / "live_schema.sql"
PLATFORM_DJANGO = FIXTURES / "platform_django.sql"
PREVIOUS_INSTALLATION = FIXTURES / "previous_installation.sql"
UPGRADE_SCRIPT = PROJECT_DIR / "sql" / "upgrade_existing_database.sql"
POSTGRES_MAX_NAME_LENGTH = 63


def live_schema(provider_id_type: str = "varchar") -> str:
    """The live tables, with product_orders."providerId" declared `provider_id_type` (some copies
    of the live database have it uuid)."""
    schema = LIVE_SCHEMA.read_text()
    if provider_id_type == "varchar":
        return schema
    table = re.search(r"CREATE TABLE public\.product_orders \(.*?\n\);", schema, flags=re.S)
    assert table, "live_schema.sql no longer creates public.product_orders"
    changed, count = re.subn(r'"providerId" character varying,', f'"providerId" {provider_id_type},', table[0])
    assert count == 1, 'live_schema.sql no longer declares product_orders."providerId" on one line'
    return schema.replace(table[0], changed)


@dataclass
class LegacyDatabase:
    name: str
    url: str  # DATABASE_URL for commands run against it
    connection: "psycopg2.extensions.connection | None" = None  # autocommit, search path "$user", public


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

    def create(self, schema_sql: str | None = None, platform_django: bool = False) -> LegacyDatabase:
        """A new database with the platform's live tables (`schema_sql` instead, if given), and
        with `platform_django` the platform's own Django bookkeeping in public."""
        name = f"{self.test_database['NAME']}_legacy_{uuid.uuid4().hex[:10]}"
        assert len(name) <= POSTGRES_MAX_NAME_LENGTH, f"database name too long for PostgreSQL: {name}"
        with self._server() as server:
            server.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        params = self.server_params()
        database = LegacyDatabase(name, f"postgres://{params['user']}@{params['host']}:{params['port']}/{name}")
        self.created.append(database)  # from here on, drop_all removes it whatever fails next
        database.connection = psycopg2.connect(dbname=name, **params)
        database.connection.autocommit = True
        cursor = database.connection.cursor()
        cursor.execute(LIVE_SCHEMA.read_text() if schema_sql is None else schema_sql)
        if platform_django:
            cursor.execute(PLATFORM_DJANGO.read_text())
        # The dumps clear the search path; the platform's own connections have the default one.
        cursor.execute("RESET search_path")
        return database

    def create_upgraded(self, schema_sql: str | None = None, platform_django: bool = False) -> LegacyDatabase:
        """A new database as `create` makes it, upgraded as docs/UPGRADING.md says: the upgrade
        script, then `migrate`."""
        database = self.create(schema_sql, platform_django)
        code, _, stderr = run_upgrade_script(database)
        assert code == 0, stderr
        code, _, stderr = run_command("migrate", "-v", "0", DATABASE_URL=database.url)
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


def run_upgrade_script(database: LegacyDatabase, *psql_args: str) -> tuple[int, str, str]:
    """sql/upgrade_existing_database.sql run as docs/UPGRADING.md runs it: psql, stopping at
    the first error. (exit code, stdout, stderr)"""
    psql = shutil.which("psql")
    assert psql, "psql (PostgreSQL's client) is needed to run the upgrade script"
    process = subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", *psql_args, "-d", database.url, "-f", str(UPGRADE_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return process.returncode, process.stdout, process.stderr
