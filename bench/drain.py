"""One worker process of the throughput phase: `drain.py MAX_RUNS`.

Runs check_pending_orders (the management command, in this process) again and again until a
run claims nothing. Django starts once, before the clock: it prints "ready", waits for a line
on stdin so that all workers start together, and ends with one JSON line about its runs (CPU
seconds of all its threads, start-up excluded).
"""

import io
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_dev")
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
os.environ.setdefault("MONITOR_ALLOWED_PROVIDER_HOSTS", "127.0.0.1,localhost")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

_FIELD = re.compile(r"(\w+)=(\d+)")


def run_once():
    out = io.StringIO()
    call_command("check_pending_orders", stdout=out)
    counts = {key: int(value) for key, value in _FIELD.findall(out.getvalue())}
    claimed = counts.get("checked", 0) + counts.get("released", 0) + counts.get("update_failures", 0)
    return claimed, counts.get("checked", 0)


def main():
    max_runs = int(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu_started = time.perf_counter(), time.process_time()
    runs = checked = 0
    while runs < max_runs:
        claimed, run_checked = run_once()
        runs += 1
        checked += run_checked
        if claimed == 0:
            break
    report = {
        "runs": runs,
        "checked": checked,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
