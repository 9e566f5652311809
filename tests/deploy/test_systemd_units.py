"""deploy/: the systemd timer + service do what the crontab line does, and systemd accepts them."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands import PROJECT_DIR

DEPLOY = PROJECT_DIR / "deploy"
UNITS = ("order-monitor-check.service", "order-monitor-check.timer", "order-monitor-admin.service")
INSTALL_DIR = "/srv/order-monitor"


def unit(name):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(DEPLOY / name)
    return parser


def crontab_check_line():
    """cron's schedule, working directory, environment file and command of check_pending_orders."""
    lines = (PROJECT_DIR / "crontab.txt").read_text().splitlines()
    (line,) = [line for line in lines if "check_pending_orders" in line and not line.startswith("#")]
    match = re.fullmatch(
        r"(?P<schedule>(?:\S+ ){5})cd (?P<cwd>\S+) && set -a && \. (?P<env>\S+) && set \+a && "
        r"flock -n \S+ (?P<command>.+?) >> \S+ 2>&1",
        line,
    )
    assert match, line
    return match


def test_the_timer_and_service_match_the_crontab_line():
    cron = crontab_check_line()
    service = unit("order-monitor-check.service")["Service"]
    timer = unit("order-monitor-check.timer")["Timer"]

    assert cron["schedule"].strip() == "*/5 * * * *"
    assert timer["OnCalendar"] == "*:0/5"  # every 5 minutes, on the minute
    assert timer["Unit"] == "order-monitor-check.service"
    assert service["Type"] == "oneshot"  # active while running: the timer starts no second run
    assert service["WorkingDirectory"] == cron["cwd"] == INSTALL_DIR
    assert service["EnvironmentFile"] == cron["env"]
    # cron runs `.venv/bin/python manage.py ...` from the working directory.
    assert service["ExecStart"] == f"{INSTALL_DIR}/{cron['command']}"


def installed_copies(tmp_path):
    """The unit files with the install directory, environment file and interpreter of this machine."""
    env_file = tmp_path / "order-monitor.env"
    env_file.write_text("LOG_LEVEL=INFO\n")
    bin_dir = str(Path(sys.executable).parent)
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        text = text.replace(f"{INSTALL_DIR}/.venv/bin", bin_dir).replace(INSTALL_DIR, str(tmp_path))
        text = text.replace("/etc/order-monitor.env", str(env_file))
        (tmp_path / name).write_text(text)
    return [str(tmp_path / name) for name in UNITS]


@pytest.mark.slow
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    if shutil.which("systemd-analyze") is None:
        # .ci/run installs systemd where it is missing, so CI always runs this.
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    result = subprocess.run(
        ["systemd-analyze", "verify", *installed_copies(tmp_path)], capture_output=True, text=True, timeout=60
    )
    # Unknown keys and bad values are only warnings on stderr: none is allowed.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")

    calendar = subprocess.run(
        ["systemd-analyze", "calendar", "--iterations", "3", "*:0/5"], capture_output=True, text=True, timeout=60
    )
    assert "Normalized form: *-*-* *:00/5:00" in calendar.stdout


def test_the_loop_ends_before_the_next_start():
    """Every 5 minutes a loop starts; it must be done before the next one, or flock -n (and the
    timer) skip that start and nothing is checked for 5 minutes."""
    command = crontab_check_line()["command"]
    match = re.search(r"check_pending_orders --loop --max-seconds (\d+) ", command)
    assert match, command
    # The last calls are cut at the deadline (at least 1 s per attempt), then storing, the row,
    # the metrics file: a few seconds, and start-up on a loaded host.
    assert 240 <= int(match[1]) <= 300 - 10
