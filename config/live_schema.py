"""What the migrations of both apps do to mirror the live tables' column sizes on a fresh database.

The live tables (`integrations`, `product_orders`) have varchar columns of fixed sizes, declared
in the models. A database built by the first migrations has those columns as `text`; only such
columns are narrowed. A live table keeps its own types (varchar, or uuid for some copies'
"providerId"): they are never altered.
"""


def narrow_text_columns(schema_editor, table: str, sizes: dict[str, int]) -> None:
    """ALTER each column of `sizes` that `table` still declares `text` to varchar(size)."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return  # SQLite does not enforce sizes
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND data_type = 'text'",
            [table],
        )
        text_columns = {row[0] for row in cursor.fetchall()}
    for column, size in sizes.items():
        if column in text_columns:
            schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE varchar({size})')
