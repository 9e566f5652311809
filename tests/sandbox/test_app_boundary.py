"""The sandbox app is for the demo, the tests and the benchmarks, and bench/ (schedule_eval included) for
the benchmarks and the tests: production code imports neither."""

import ast

from tests.commands import PROJECT_DIR

PRODUCTION_PACKAGES = ("budgets", "config", "dispatch", "health", "hooks", "orders", "providers", "schedules")


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_no_production_module_imports_the_sandbox():
    offenders = [
        f"{path.relative_to(PROJECT_DIR)}: {module}"
        for package in PRODUCTION_PACKAGES
        for path in sorted((PROJECT_DIR / package).rglob("*.py"))
        for module in imported_modules(path)
        if module == "sandbox" or module.startswith("sandbox.")
    ]
    assert offenders == []


def test_no_production_module_imports_the_benchmarks():
    offenders = [
        f"{path.relative_to(PROJECT_DIR)}: {module}"
        for package in PRODUCTION_PACKAGES
        for path in sorted((PROJECT_DIR / package).rglob("*.py"))
        for module in imported_modules(path)
        if module in ("bench", "schedule_eval") or module.startswith("bench.")
    ]
    assert offenders == []
