"""The sandbox commands' options: declared on the config dataclasses, checked, mapped to the config."""

import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sandbox import apstore, znet
from sandbox.management.commands import apstore_sandbox, znet_sandbox
from sandbox.options import config_from_options


def config_of(command_module, config_class, *arguments):
    parser = command_module.Command().create_parser("manage.py", command_module.__name__.rsplit(".", 1)[-1])
    return config_from_options(config_class, vars(parser.parse_args(list(arguments))))


def test_without_options_the_commands_serve_the_default_configs():
    assert config_of(znet_sandbox, znet.SandboxConfig) == znet.SandboxConfig()
    assert config_of(apstore_sandbox, apstore.SandboxConfig) == apstore.SandboxConfig()


# option: (config field, value given, value in the config)
SHARED_OPTIONS = {
    "--checks-until-final": ("checks_until_final", "3", 3),
    "--fail-ratio": ("fail_ratio", "0.15", 0.15),
    "--latency-ms": ("latency", "50", 0.05),
    "--http500-rate": ("http500_rate", "0.1", 0.1),
    "--slow-rate": ("slow_rate", "0.2", 0.2),
    "--slow-seconds": ("slow_seconds", "4", 4.0),
    "--malformed-rate": ("malformed_rate", "0.3", 0.3),
    "--first-place-delay": ("first_place_delay", "1.5", 1.5),
    "--seed": ("seed", "7", 7),
}
ZNET_OPTIONS = {
    **SHARED_OPTIONS,
    "--kod": ("kod", "k-1", "k-1"),
    "--sifre": ("sifre", "s-1", "s-1"),
    "--error-line-rate": ("error_line_rate", "0.05", 0.05),
    "--empty-rate": ("empty_rate", "0.01", 0.01),
    "--answer-styles": ("answer_styles", "lower_ok, bom,dash_pin", ("lower_ok", "bom", "dash_pin")),
    "--place-cost": ("place_cost", "12.40", "12.40"),
    "--balance": ("balance", "900.00", "900.00"),
    "--duplicate-answer": ("duplicate_answer", "http409", "http409"),
}
APSTORE_OPTIONS = {
    **SHARED_OPTIONS,
    "--token": ("token", "t-1", "t-1"),
    "--error-status-rate": ("error_status_rate", "0.05", 0.05),
    "--omit-rate": ("omit_rate", "0.03", 0.03),
    "--balance": ("balance", "99.5", 99.5),
    "--status-field": ("status_field", "state", "state"),
    "--pin-field": ("pin_field", "voucher", "voucher"),
    "--reason-field": ("reason_field", "desc", "desc"),
    "--id-field": ("id_field", "id", "id"),
    "--wait-word": ("wait_word", "queued", "queued"),
    "--done-word": ("done_word", "completed", "completed"),
    "--fail-word": ("fail_word", "canceled", "canceled"),
    "--omit-top-status": ("omit_top_status", None, True),
    "--duplicate-answer": ("duplicate_answer", "http409", "http409"),
    "--place-refusal-word": ("place_refusal_word", "reject", "reject"),
    "--price-currency": ("price_currency", "USD", "USD"),
}


@pytest.mark.parametrize(
    "command_module,config_class,options",
    [(znet_sandbox, znet.SandboxConfig, ZNET_OPTIONS), (apstore_sandbox, apstore.SandboxConfig, APSTORE_OPTIONS)],
)
def test_every_option_sets_its_config_field(command_module, config_class, options):
    arguments = [part for flag, (_, text, _) in options.items() for part in (flag, text) if part is not None]
    expected = config_class(**{field: value for field, _, value in options.values()})

    assert config_of(command_module, config_class, *arguments) == expected


@pytest.mark.parametrize(
    "command,arguments,message",
    [
        ("znet_sandbox", ["--checks-until-final", "0"], "--checks-until-final must be at least 1"),
        ("apstore_sandbox", ["--checks-until-final", "0"], "--checks-until-final must be at least 1"),
        ("znet_sandbox", ["--first-place-delay", "-1"], "--first-place-delay must not be negative"),
        ("apstore_sandbox", ["--first-place-delay", "-0.5"], "--first-place-delay must not be negative"),
        ("apstore_sandbox", ["--token", ""], "--token must not be empty"),
        ("znet_sandbox", ["--fail-ratio", "1.5"], "argument --fail-ratio: invalid rate value: '1.5'"),
        ("apstore_sandbox", ["--omit-rate", "-0.1"], "argument --omit-rate: invalid rate value: '-0.1'"),
        ("znet_sandbox", ["--answer-styles", "lower_ok,shouting"], "argument --answer-styles: invalid list of"),
        ("apstore_sandbox", ["--pin-field", "pincode"], "argument --pin-field: invalid choice: 'pincode'"),
    ],
)
def test_a_bad_option_is_one_clear_error(command, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command(command, *arguments)


@pytest.mark.parametrize("command", ["znet_sandbox", "apstore_sandbox"])
def test_a_port_in_use_is_one_clear_error(command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            call_command(command, "--port", str(port))
