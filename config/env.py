"""Typed readers for environment variables; a bad value stops start-up with one clear message.

Every reader takes the setting's range (numbers) or form (text) and records it in SPECS, so
that docs/CONFIGURATION.md and the tests can be checked against every setting read, and the
commands' options share the ranges of the settings they stand in for (`range_of`). A value
outside its range is refused, never clamped: a typo must not silently become another number.

Numbers are ASCII: digits, a sign and, for decimals, a point and an exponent. Python's own
`int()` and `float()` also take `1_000`, Arabic-Indic digits, `inf` and `nan`, none of which
the documentation promises.
"""

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

_WHOLE = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Longer numbers are out of every range; int() refuses more than 4300 digits anyway.
_MAX_DIGITS = 40
_SHOWN_CHARACTERS = 40


@dataclass(frozen=True)
class Range:
    """The values a number may take, both ends included."""

    minimum: float
    maximum: float
    whole: bool = False

    def describe(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {show_number(self.minimum)} to {show_number(self.maximum)}"

    def parse(self, text: str) -> float:
        """`text` as a number of this range; ValueError (whose text is `describe()`) otherwise."""
        text = text.strip()
        if len(text) > _MAX_DIGITS or not (_WHOLE if self.whole else _DECIMAL).fullmatch(text):
            raise ValueError(self.describe())
        value = int(text) if self.whole else float(text)
        if not (math.isfinite(value) and self.minimum <= value <= self.maximum):
            raise ValueError(self.describe())
        return value

    def clamp(self, value: float) -> float:
        """`value` moved into the range, for values computed by code rather than given by people:
        NaN becomes the minimum (the shortest, most cautious choice), infinities an end."""
        if math.isnan(value):
            return self.minimum
        return min(max(value, self.minimum), self.maximum)


@dataclass(frozen=True)
class Spec:
    """What a setting may be: its default and the valid values in words (docs/CONFIGURATION.md)."""

    name: str
    default: object
    valid: str
    range: Range | None = None


# Every setting read so far, in the order config/settings.py reads them.
SPECS: dict[str, Spec] = {}


def range_of(name: str) -> Range:
    """The range of a number setting config/settings.py has read."""
    spec = SPECS[name]
    if spec.range is None:
        raise KeyError(f"{name} is not a number setting")
    return spec.range


def show_number(value: float) -> str:
    """1 for 1.0, 0.1 for 0.1, 31536000 for 31536000.0: as the documentation writes numbers."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def shown(raw: str) -> str:
    """A value as an error message repeats it: escaped to ASCII on one line, and cut."""
    if len(raw) > _SHOWN_CHARACTERS:
        return ascii(raw[:_SHOWN_CHARACTERS]) + "..."
    return ascii(raw)


def _register(name, default, valid, number_range=None):
    SPECS[name] = Spec(name, default, valid, number_range)


def _refuse(name, valid, raw, secret=False):
    # Secrets (keys, DSNs) are named, never repeated.
    got = "" if secret else f", got {shown(raw)}"
    return ImproperlyConfigured(f"{name} must be {valid}{got}")


def _raw(name):
    """The variable's value, or None when it is unset or blank (the default applies)."""
    raw = os.environ.get(name)
    return None if raw is None or raw.strip() == "" else raw


def env_str(name: str, default: str = "", valid: str = "any text") -> str:
    """Text as given (no check); unset means `default`."""
    _register(name, default, valid)
    return os.environ.get(name, default)


def matching(pattern: str) -> Callable[[str], bool]:
    """A test that text matches `pattern` as a whole."""
    compiled = re.compile(pattern)
    return lambda text: compiled.fullmatch(text) is not None


def env_text(name: str, default: str, valid: str, accept: Callable[[str], bool], secret: bool = False) -> str:
    """Text that `accept` takes (after trimming spaces); unset or blank means `default`.
    `valid` says in words what is accepted, for the error and the docs."""
    _register(name, default, valid)
    raw = _raw(name)
    if raw is None:
        return default
    if not accept(raw.strip()):
        raise _refuse(name, valid, raw, secret)
    return raw.strip()


def env_bool(name: str, default: bool = False) -> bool:
    valid = "true or false (1, true, yes, on / 0, false, no, off)"
    _register(name, default, valid)
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise _refuse(name, valid, raw)


def env_list(name: str, default: str, valid: str, accept: Callable[[str], bool]) -> list[str]:
    """Items separated by commas, each taken by `accept` (spaces around items are dropped);
    unset or blank means `default`. An empty item (`a,,b`, `,`) is refused: it is a typo, not a
    wish for no entry."""
    _register(name, default, valid)
    raw = _raw(name)
    text = default if raw is None else raw
    if not text.strip():
        return []
    items = [item.strip() for item in text.split(",")]
    if not all(item and accept(item) for item in items):
        raise _refuse(name, valid, text)
    return items


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, compared without regard to case."""
    valid = "one of " + ", ".join(choices)
    _register(name, default, valid)
    raw = _raw(name)
    if raw is None:
        return default
    for choice in choices:
        if raw.strip().lower() == choice.lower():
            return choice
    raise _refuse(name, valid, raw)


def _env_number(name, default, number_range):
    _register(name, default, number_range.describe(), number_range)
    raw = _raw(name)
    if raw is None:
        return default
    try:
        return number_range.parse(raw)
    except ValueError:
        raise _refuse(name, number_range.describe(), raw) from None


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """A whole number from `minimum` to `maximum`."""
    return int(_env_number(name, default, Range(minimum, maximum, whole=True)))


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    """A number (decimals, exponents: 0.5, 1e3) from `minimum` to `maximum`."""
    return float(_env_number(name, default, Range(minimum, maximum)))
