"""Django's PostgreSQL backend, with the monitor's tables in a schema of their own.

The platform's own Django project shares the database and keeps its `django_migrations`,
`django_content_type`, `auth_permission`, `django_session` and `django_admin_log` in `public`.
Two projects cannot share those tables: the monitor would take the platform's migration records
for its own (and skip its migrations), and its `createsuperuser` would look for an `auth_user`
the platform does not have. So every connection:

- puts the monitor's schema (`MONITOR_DB_SCHEMA`, default `order_monitor`) first on its search
  path (`order_monitor, public`): unqualified DDL, Django's bookkeeping and the monitor's own
  tables go there, while the platform's tables are found in `public`;
- creates that schema if it is missing (before Django first looks for `django_migrations`);
- lists, when Django asks which tables exist, only the monitor's schema and the platform's
  tables the models use (config.live_schema.PLATFORM_TABLES). PostgreSQL's own visibility rule
  would list `public.django_migrations` as long as the monitor has none of its own, and Django
  would then record its migrations in the platform's table.
"""

import os

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base, client, introspection

from config.live_schema import PLATFORM_SCHEMA, PLATFORM_TABLES

SCHEMA_OPTION = "monitor_schema"  # in DATABASES["default"]["OPTIONS"], set by config/settings.py


class DatabaseIntrospection(introspection.DatabaseIntrospection):
    connection: "DatabaseWrapper"

    def get_table_list(self, cursor):
        """The tables of the monitor's schema, and the platform's tables the models use."""
        cursor.execute(
            """
            SELECT c.relname,
                   CASE WHEN c.relispartition THEN 'p' WHEN c.relkind IN ('m', 'v') THEN 'v' ELSE 't' END,
                   obj_description(c.oid, 'pg_class')
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v')
              AND pg_catalog.pg_table_is_visible(c.oid)
              AND (n.nspname = %s OR (n.nspname = %s AND c.relname = ANY(%s)))
            """,
            [self.connection.monitor_schema, PLATFORM_SCHEMA, sorted(PLATFORM_TABLES)],
        )
        return [introspection.TableInfo(*row) for row in cursor.fetchall()]  # type: ignore[attr-defined]


class DatabaseClient(client.DatabaseClient):
    """`manage.py dbshell`: psql with the monitor's search path, so that an operator's queries
    find the monitor's tables as the monitor does."""

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        args, env = super().settings_to_cmd_args_env(settings_dict, parameters)
        search_path = f"-c search_path={settings_dict['OPTIONS'][SCHEMA_OPTION]},{PLATFORM_SCHEMA}"
        env = {**(env or {}), "PGOPTIONS": " ".join(filter(None, [os.environ.get("PGOPTIONS"), search_path]))}
        return args, env


class DatabaseWrapper(base.DatabaseWrapper):
    introspection_class = DatabaseIntrospection
    client_class = DatabaseClient

    @property
    def monitor_schema(self) -> str:
        return self.settings_dict["OPTIONS"][SCHEMA_OPTION]

    def get_connection_params(self):
        params = super().get_connection_params()
        params.pop(SCHEMA_OPTION, None)  # ours, not libpq's
        return params

    def _configure_connection(self, connection):
        """Django's hook for each new connection (also run by a connection pool)."""
        commit = super()._configure_connection(connection)  # type: ignore[misc]  # not in the stubs
        if self.alias == NO_DB_ALIAS:
            return commit  # the server's "postgres" database, to create or drop a test database
        schema = self.ops.quote_name(self.monitor_schema)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('search_path', %s, false), to_regnamespace(%s) IS NULL",
                [f"{schema}, {PLATFORM_SCHEMA}", schema],
            )
            if cursor.fetchone()[1]:
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        return True
