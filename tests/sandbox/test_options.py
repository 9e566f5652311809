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


def test_the_znet_options_set_the_config():
    config = config_of(
        znet_sandbox,
        znet.SandboxConfig,
        *("--kod", "k-1", "--sifre", "s-1", "--checks-until-final", "3", "--fail-ratio", "0.15"),
        *("--latency-ms", "50", "--error-line-rate", "0.05", "--http500-rate", "0.1", "--slow-rate", "0.2"),
        *("--slow-seconds", "4", "--malformed-rate", "0.3", "--empty-rate", "0.01", "--first-place-delay", "1.5"),
        *("--seed", "7"),
    )
    assert config == znet.SandboxConfig(
        kod="k-1",
        sifre="s-1",
        checks_until_final=3,
        fail_ratio=0.15,
        latency=0.05,
        error_line_rate=0.05,
        http500_rate=0.1,
        slow_rate=0.2,
        slow_seconds=4,
        malformed_rate=0.3,
        empty_rate=0.01,
        first_place_delay=1.5,
        seed=7,
    )


def test_the_apstore_options_set_the_config():
    config = config_of(
        apstore_sandbox,
        apstore.SandboxConfig,
        *("--token", "t-1", "--checks-until-final", "1", "--fail-ratio", "0.5", "--latency-ms", "20"),
        *("--error-status-rate", "0.1", "--http500-rate", "0.2", "--slow-rate", "0.05", "--slow-seconds", "2"),
        *("--malformed-rate", "0.04", "--omit-rate", "0.03", "--first-place-delay", "0", "--balance", "99.5"),
        *("--seed", "3"),
    )
    assert config == apstore.SandboxConfig(
        token="t-1",
        checks_until_final=1,
        fail_ratio=0.5,
        latency=0.02,
        error_status_rate=0.1,
        http500_rate=0.2,
        slow_rate=0.05,
        slow_seconds=2,
        malformed_rate=0.04,
        omit_rate=0.03,
        first_place_delay=0,
        balance=99.5,
        seed=3,
    )


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
