"""Where the monitor's tables live, and how its migrations build them without disturbing the
platform's.

The platform's tables (`product_orders`, `integrations`, `tenant`, ...) stay in `public`, on a
fresh database as on the live one: a migration creates a missing one with the live column types
(what the platform's own migrations declare, `tests/fixtures/live_schema.sql`) and otherwise only
adds the columns the monitor needs that are missing, so on the live database it adds the
monitor's own columns and nothing else. It never drops, retypes or re-creates a platform column,
index or table. The monitor's own tables (history, runs, and Django's bookkeeping) live in the
monitor's PostgreSQL schema (`MONITOR_DB_SCHEMA`, see config/postgresql), where unqualified DDL
goes; an older installation's copies in `public` are moved there, rows and all.

On SQLite (development, tests, the demo) there are no schemas: the models' tables are created as
Django creates them, and an older monitor's database gets the columns it lacks.
"""

from dataclasses import dataclass, field

PLATFORM_SCHEMA = "public"
# The platform's tables the monitor's models use. Every other table of the monitor (and every
# table Django itself makes) belongs to the monitor's schema.
PLATFORM_TABLES = frozenset(
    {"product_orders", "integrations", "tenant", "users", "dj_users", "wallet_transactions", "currencies"}
)


@dataclass(frozen=True)
class PlatformTable:
    """A platform table as the monitor's models use it: the columns with their live definitions,
    what a fresh table gets besides (constraints), and the index that goes with a column when the
    monitor adds it (a live table already has its own)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    constraints: tuple[str, ...] = ()
    column_indexes: dict[str, str] = field(default_factory=dict)


def ensure_platform_table(schema_editor, table: PlatformTable, model) -> None:
    """Create `table` if it is missing, else add the columns of `table` it lacks (one ALTER TABLE,
    none when nothing is missing: the live table is not even locked then). `model` is the
    migration state's model of the table, for SQLite."""
    if schema_editor.connection.vendor != "postgresql":
        _ensure_model_table(schema_editor, model)
        return
    existing = _platform_columns(schema_editor.connection, table.name)
    qualified = f"{PLATFORM_SCHEMA}.{table.name}"
    if not existing:
        definitions = [f"{_quoted(column)} {definition}" for column, definition in table.columns]
        schema_editor.execute(f"CREATE TABLE {qualified} ({', '.join([*definitions, *table.constraints])})")
        added = [column for column, _ in table.columns]
    else:
        missing = [(column, definition) for column, definition in table.columns if column not in existing]
        if missing:
            clauses = ", ".join(f"ADD COLUMN {_quoted(column)} {definition}" for column, definition in missing)
            schema_editor.execute(f"ALTER TABLE {qualified} {clauses}")
        added = [column for column, _ in missing]
    for column in added:
        if column in table.column_indexes:
            schema_editor.execute(table.column_indexes[column])


def ensure_monitor_table(schema_editor, model) -> None:
    """The monitor's own table of `model`, in the monitor's schema: left as it is if there, moved
    there from `public` with its rows if an older installation left it there, created otherwise."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        _ensure_model_table(schema_editor, model)
        return
    schema, table = connection.monitor_schema, model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
            [f"{_quoted(schema)}.{_quoted(table)}", f"{PLATFORM_SCHEMA}.{_quoted(table)}"],
        )
        in_schema, in_public = cursor.fetchone()
    if in_schema:
        return
    if in_public:
        schema_editor.execute(f"ALTER TABLE {PLATFORM_SCHEMA}.{_quoted(table)} SET SCHEMA {_quoted(schema)}")
    else:
        schema_editor.create_model(model)


def monitor_tables(app_label: str, *model_names: str):
    """The migration operation that builds an app's own tables (`ensure_monitor_table`, one per
    model) and, going back, drops them."""
    from django.db import migrations

    def build(apps, schema_editor):
        for name in model_names:
            ensure_monitor_table(schema_editor, apps.get_model(app_label, name))

    def drop(apps, schema_editor):
        for name in model_names:
            schema_editor.delete_model(apps.get_model(app_label, name))

    return migrations.RunPython(build, drop)


def _ensure_model_table(schema_editor, model) -> None:
    """SQLite: the model's table as Django creates it, or the columns an existing one lacks (an
    older monitor's database). Added with plain ADD COLUMN, defaults kept: Django's add_field
    would rebuild the table from a model that already has every field."""
    connection, table = schema_editor.connection, model._meta.db_table
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            schema_editor.create_model(model)
            return
        existing = {column.name for column in connection.introspection.get_table_description(cursor, table)}
    quote = schema_editor.quote_name
    for model_field in model._meta.local_concrete_fields:
        if model_field.column not in existing:
            definition, params = schema_editor.column_sql(model, model_field, include_default=True)
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ADD COLUMN {quote(model_field.column)} {definition}", params
            )


def _platform_columns(connection, table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            [PLATFORM_SCHEMA, table],
        )
        return {row[0] for row in cursor.fetchall()}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
