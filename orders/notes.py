"""The platform's order notes: `notes` is a jsonb list of {"by", "text", "at"} objects, and
`"notesCount"` its length. Every status change the monitor makes, and every place request,
appends one, as the platform's own status change does."""

from datetime import datetime

from orders.models import Order

NOTE_AUTHOR = "system"


def note(text: str, at: datetime) -> dict:
    return {"by": NOTE_AUTHOR, "text": text, "at": at.isoformat()}


def with_note(order: Order, text: str, at: datetime) -> dict:
    """The column changes that append one note to `order` (as read, under its row lock)."""
    notes = list(order.notes or []) + [note(text, at)]
    return {"notes": notes, "notes_count": len(notes)}
