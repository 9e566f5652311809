"""Messages the management commands share."""


def database_unavailable(exc):
    """One line for a database error: its first line (driver messages run to several)."""
    text = str(exc).strip()
    return f"database unavailable: {text.splitlines()[0] if text else type(exc).__name__}"
