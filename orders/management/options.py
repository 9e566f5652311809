"""What the management commands share: reading their options, and the one line of a database
error that stops one (`database_error_line`).

A value outside what an option takes stops the command before
it does anything (no claim, no lease, no provider call) with one line naming the option and what
it takes, and exit code 2, as a bad setting does. Options that stand in for a setting
(--limit, --max-seconds) take the setting's range (config.env), so neither can reach further.
"""

import unicodedata
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from config.env import Range, range_of, shown
from orders.connection_loss import first_line, is_connection_error, sqlstate
from orders.queries import uuid_or_none
from providers.redaction import REDACTED, redact

# The exit code of a usage error (argparse's), and of a bad setting (manage.py).
USAGE_ERROR = 2


def refused(option: str, valid: str, text: str) -> CommandError:
    """The one-line error of an option whose value is not `valid`."""
    return CommandError(f"{option} must be {valid}, got {shown(text)}", returncode=USAGE_ERROR)


def number_option(option: str, text: str, number_range: Range) -> float:
    try:
        return number_range.parse(text)
    except ValueError:
        raise refused(option, number_range.describe(), text) from None


def setting_option(option: str, text: str | None, setting: str) -> float | None:
    """An option that overrides `setting` for one command, in the setting's range; None when unset
    (the setting's value applies: orders.claiming.RunConfig)."""
    return None if text is None else number_option(option, text, range_of(setting))


def uuid_option(option: str, text: str | None) -> uuid.UUID | None:
    """A UUID in any form uuid.UUID reads (braces, upper case, no hyphens); None when unset."""
    if text is None:
        return None
    value = uuid_or_none(text.strip())
    if value is None:
        raise refused(option, "a UUID", text)
    return value


def text_option(option: str, text: str, max_length: int, required: bool = False) -> str:
    """Text sent on to a provider: at most `max_length` characters, no control characters
    (a line break or NUL is never part of a product or player id)."""
    valid = f"{'1' if required else '0'} to {max_length} characters without control characters"
    if len(text) > max_length or (required and not text.strip()) or _has_control_characters(text):
        raise refused(option, valid, text)
    return text


def file_in_existing_directory(option: str, text: str | None) -> str | None:
    """A file path whose directory exists (the file itself is written later)."""
    if text is None:
        return None
    if not text.strip() or _has_control_characters(text) or not Path(text).resolve().parent.is_dir():
        raise refused(option, "a file in an existing directory", text)
    return text


def _has_control_characters(text):
    return any(unicodedata.category(character) == "Cc" for character in text)


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
