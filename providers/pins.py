"""A PIN field as providers fill it: one code, several codes one a line (an order of quantity 2
or more), or a placeholder that is no PIN at all."""

# Placeholders a provider (or the platform's own checker) writes where there is no PIN yet.
NO_PIN_VALUES = frozenset({"", "-"})


def pin_of(text: str) -> str | None:
    """The PIN a field holds: every code kept, one a line (trimmed, blank and "-" lines
    dropped, `\\r\\n` read as a line break); None when no code is left (" ", "-", " - ")."""
    codes = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    kept = [code for code in codes if code not in NO_PIN_VALUES]
    return "\n".join(kept) or None


def pin_of_codes(codes: list) -> str | None:
    """The PIN of a list of codes (texts or whole numbers), newline-separated; None if none."""
    texts = [_code_text(code) for code in codes]
    return pin_of("\n".join(text for text in texts if text is not None))


def _code_text(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None
