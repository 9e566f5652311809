"""Command-line options of a sandbox, declared once on its config dataclass.

A config field that a sandbox command offers as an option says so with `option(...)`:

    @dataclass
    class SandboxConfig:
        fail_ratio: float = option(0.0, "share of placed orders that end failed", type=rate)
        latency: float = option(0.0, "added to every answer", flag="--latency-ms", scale=1000)
        first_order_id: int = 70001  # a plain field: not an option

`add_config_options(parser, SandboxConfig)` adds `--fail-ratio` etc. (the field name with
dashes, unless `flag` says otherwise) with the field's default, and
a boolean field becomes a switch (`action="store_true"`), and
`config_from_options(SandboxConfig, options)` builds the config from the parsed options, after
checking the bounds the fields declare. Adding an option is adding a field.
"""

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any

_OPTION = "sandbox_option"


class OptionError(ValueError):
    """An option value outside its field's bounds; the message names the option."""


@dataclasses.dataclass(frozen=True)
class _Option:
    help: str
    type: Callable[[str], Any] | None  # None: the type of the default (str for a None default)
    flag: str | None
    scale: float  # the option's value is the field's value times this (seconds -> ms: 1000)
    minimum: float | None
    required: bool  # an empty value is refused
    choices: tuple[str, ...] | None  # the only values allowed


def option(
    default: Any,
    help: str = "",
    *,
    type: Callable[[str], Any] | None = None,
    flag: str | None = None,
    scale: float = 1,
    minimum: float | None = None,
    required: bool = False,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A dataclass field with this default that a sandbox command offers as an option."""
    return dataclasses.field(
        default=default, metadata={_OPTION: _Option(help, type, flag, scale, minimum, required, choices)}
    )


def rate(text: str) -> float:
    """argparse type: a share between 0 and 1."""
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


def word_list(*choices: str) -> Callable[[str], tuple[str, ...]]:
    """argparse type: comma-separated words, each one of `choices` ("" is none)."""

    def words(text: str) -> tuple[str, ...]:
        given = tuple(word.strip() for word in text.split(",") if word.strip())
        if any(word not in choices for word in given):
            raise ValueError(text)
        return given

    words.__name__ = "list of " + "/".join(choices)  # argparse names the type in its error
    return words


def add_config_options(parser: argparse.ArgumentParser, config_class: type) -> None:
    for config_field, spec in _options_of(config_class):
        default = config_field.default
        if isinstance(default, bool):  # a switch: --approve-at-once
            parser.add_argument(_flag(config_field, spec), dest=config_field.name, action="store_true", help=spec.help)
            continue
        value_type = spec.type or (type(default) if default is not None else str)
        shown_default = default * spec.scale if default is not None else None
        flag = _flag(config_field, spec)
        parser.add_argument(
            flag,
            dest=config_field.name,
            metavar=flag.removeprefix("--").replace("-", "_").upper(),
            type=value_type,
            default=shown_default,
            choices=spec.choices,
            help=spec.help,
        )


def config_from_options(config_class: type, options: dict[str, Any]) -> Any:
    """The config the parsed `options` describe. Raises OptionError for a value out of bounds."""
    values = {}
    for config_field, spec in _options_of(config_class):
        value = options[config_field.name]
        _check_bounds(_flag(config_field, spec), value, spec)
        values[config_field.name] = value / spec.scale if value is not None and spec.scale != 1 else value
    return config_class(**values)


def _options_of(config_class):
    return [(f, f.metadata[_OPTION]) for f in dataclasses.fields(config_class) if _OPTION in f.metadata]


def _flag(config_field, spec):
    return spec.flag or "--" + config_field.name.replace("_", "-")


def _check_bounds(flag, value, spec):
    if spec.required and not value:
        raise OptionError(f"{flag} must not be empty")
    if spec.minimum is not None and value is not None and value < spec.minimum:
        bound = "must not be negative" if spec.minimum == 0 else f"must be at least {spec.minimum}"
        raise OptionError(f"{flag} {bound}")
