"""The benchmarks' throw-away PostgreSQL database: created at the start, dropped at the end.

The name must contain "bench": the database is dropped, so never one that is not a benchmark's.
"""

import dj_database_url
import psycopg2


def admin_query(database_url, sql):
    """Run one statement on the server's maintenance database (autocommit: CREATE/DROP DATABASE)."""
    config = dj_database_url.parse(database_url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def database_name(database_url):
    name = dj_database_url.parse(database_url)["NAME"]
    if "bench" not in name:
        raise SystemExit(f"BENCH_DATABASE_URL must name a database with 'bench' in its name, got {name!r}")
    return name


def create_database(database_url):
    drop_database(database_url)
    admin_query(database_url, f'CREATE DATABASE "{database_name(database_url)}"')


def drop_database(database_url):
    admin_query(database_url, f'DROP DATABASE IF EXISTS "{database_name(database_url)}" WITH (FORCE)')
