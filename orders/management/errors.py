"""Messages the management commands share."""

from django.conf import settings

from orders.connection_loss import first_line, is_connection_error, sqlstate
from providers.redaction import REDACTED, redact

_UPGRADE_HINT = "run sql/upgrade_existing_database.sql, then python manage.py migrate; see docs/UPGRADING.md"
_MIGRATE_HINT = "run python manage.py migrate; on the platform's existing database see docs/UPGRADING.md first"


def database_error_line(exc: BaseException) -> str:
    """One line for a database error that stops a command. A connection problem sends the
    operator to the server ("database unavailable: ..."); any other error is a data or schema
    problem ("database error: ..."), with what to do where that is known."""
    text = _without_password(first_line(exc))
    if is_connection_error(exc):
        return f"database unavailable: {text}"
    hint = _hint(exc)
    return f"database error: {text} ({hint})" if hint else f"database error: {text}"


def _hint(exc):
    code = sqlstate(exc)
    text = str(exc).lower()
    # 42703 undefined_column, 42P01 undefined_table; SQLite says "no such column/table".
    if code == "42703" or "no such column" in text:
        return _UPGRADE_HINT
    if code == "42P01" or "no such table" in text:
        return _MIGRATE_HINT
    return None


def _without_password(text):
    # Driver messages do not normally repeat the password; this makes sure.
    password = settings.DATABASES["default"].get("PASSWORD")
    if password:
        text = text.replace(password, REDACTED)
    return redact(text)
