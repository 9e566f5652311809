"""Is a text a crontab schedule? SENTRY_CRONS_SCHEDULE is handed to Sentry, which would
otherwise find a typo only when the first check-in arrives (and drop the check-ins)."""

# (lowest, highest, names) of minute, hour, day of month, month, day of week (0 and 7: Sunday).
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {name: number for number, name in enumerate(_MONTHS, start=1)}),
    (0, 7, {name: number for number, name in enumerate(_DAYS)}),
)
NICKNAMES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly")


def is_crontab(text: str) -> bool:
    """Five fields (minute hour day-of-month month day-of-week) of `*`, numbers, ranges `a-b`,
    steps `/n` and lists `a,b`, within each field's values (months and days also by their
    three-letter English names), or one of the nicknames (`@daily`, ...)."""
    if text.strip().lower() in NICKNAMES:
        return True
    fields = text.split()
    if len(fields) != len(_FIELDS):
        return False
    return all(_field_is_valid(field, *limits) for field, limits in zip(fields, _FIELDS, strict=True))


def _field_is_valid(field, lowest, highest, names):
    return all(_part_is_valid(part, lowest, highest, names) for part in field.lower().split(","))


def _part_is_valid(part, lowest, highest, names):
    base, slash, step = part.partition("/")
    if slash and not (_is_number(step) and 1 <= int(step) <= highest - lowest + 1):
        return False
    if base == "*":
        return True
    first, dash, last = base.partition("-")
    start = _value(first, names)
    end = _value(last, names) if dash else start
    return start is not None and end is not None and lowest <= start <= end <= highest


def _value(text, names):
    if _is_number(text):
        return int(text)
    return names.get(text)


def _is_number(text):
    # str.isdigit() alone would take other scripts' digits.
    return 0 < len(text) <= 2 and text.isascii() and text.isdigit()
