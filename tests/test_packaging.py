"""The pins in pyproject.toml, requirements*.txt and the hashed lock files agree, so `make`
and CI (which install requirements-dev.lock) get what the project declares."""

import re
import sys
import tomllib

from tests.commands import PROJECT_DIR

# `name==version` then its `--hash=sha256:...` lines, each line but the last ending in " \\".
LOCKED = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)(?P<hashes>(?: \\\n +--hash=sha256:[0-9a-f]{64})*)", re.M
)


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines):
    pinned = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, version = line.split("==")
            pinned[normalized(name)] = version
    return pinned


def requirements(name):
    return pins((PROJECT_DIR / name).read_text().splitlines())


def lock(name):
    """{package: version} of a pip-compile lock; every package must carry at least one hash."""
    entries = list(LOCKED.finditer((PROJECT_DIR / name).read_text()))
    assert entries and all(entry["hashes"] for entry in entries), f"{name}: a package without a hash"
    return {normalized(entry["name"]): entry["version"] for entry in entries}


def test_pyproject_declares_the_pins_of_the_requirements_files():
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
    assert project["name"] == "order-monitor"
    assert project["requires-python"] == ">=3.11" and sys.version_info >= (3, 11)
    assert pins(project["dependencies"]) == requirements("requirements.txt")
    assert pins(project["optional-dependencies"]["dev"]) == requirements("requirements-dev.txt")
    assert "psycopg2-binary" in pins(project["dependencies"])  # the platform's chosen driver


def test_the_locks_hold_the_pins_with_hashes():
    runtime, dev = lock("requirements.lock"), lock("requirements-dev.lock")
    for package, version in requirements("requirements.txt").items():
        assert runtime[package] == version, package
    for package, version in requirements("requirements-dev.txt").items():
        assert dev[package] == version, package
    # Production runs the versions the tests ran with.
    assert {package: dev.get(package) for package in runtime} == runtime
