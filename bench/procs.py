"""The processes the benchmark starts: the znet sandbox, the real command, the drain workers.
Commands and workers are killed (by their own pid) after COMMAND_TIMEOUT; the sandbox stops when
the benchmark closes its stdin. CPU and memory figures come from wait4 and /proc."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BENCH = PROJECT / "bench"
COMMAND_TIMEOUT = 120  # seconds; the sequential run needs about 11
_SUMMARY_FIELD = re.compile(r"(\w+)=([\d.]+)")


@dataclass
class CommandRun:
    seconds: float  # wall time, process start to exit
    rss_mb: float  # peak resident set size of the process (wait4)
    cpu_seconds: float  # user + system
    summary: dict  # the command's summary line: checked, completed, ..., seconds


@contextlib.contextmanager
def sandbox(latency_ms, kod, sifre, reference_prefix, references):
    """Yield (base_url, pid) of a sandbox process; it stops when its stdin closes."""
    arguments = [str(latency_ms), kod, sifre, reference_prefix, str(references)]
    process = subprocess.Popen(
        [sys.executable, str(BENCH / "sandbox_server.py"), *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        if not base_url:
            raise RuntimeError("the znet sandbox did not start")
        yield base_url, process.pid
    finally:
        process.stdin.close()
        _wait_or_kill(process, 5)


def run_command(args, env, log_path):
    """Run `manage.py <args>`; its logs (stderr) go to log_path. Raises if it fails."""
    started = time.perf_counter()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT / "manage.py"), *args],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        with _killer(process, COMMAND_TIMEOUT):
            output = process.stdout.read().decode()
            # wait4, not wait: the peak RSS and CPU of this one child, not of all children so far.
            _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} exited {process.returncode}; see {log_path}")
    last_line = (output.strip().splitlines() or [""])[-1]
    summary = {key: float(value) for key, value in _SUMMARY_FIELD.findall(last_line)}
    return CommandRun(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, summary)


def start_command(args, env, log_path):
    """Start `manage.py <args>` and return the process; finish_command waits for it."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, str(PROJECT / "manage.py"), *args],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
        )


def finish_command(process, log_path):
    """Wait for a command started by start_command (killed after COMMAND_TIMEOUT); returns the
    last line of its output. Raises if it failed."""
    with _killer(process, COMMAND_TIMEOUT):
        output = process.stdout.read().decode()
        process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(process.args[1:])} exited {process.returncode}; see {log_path}")
    return (output.strip().splitlines() or [""])[-1]


def run_drains(count, env, log_path, max_runs):
    """Start `count` drain workers, release them together once Django is up in each, and return
    (wall seconds, [their JSON reports])."""
    with open(log_path, "ab") as log:
        workers = [
            subprocess.Popen(
                [sys.executable, str(BENCH / "drain.py"), str(max_runs)],
                cwd=PROJECT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            for _ in range(count)
        ]
    try:
        return _release_and_collect(workers, log_path)
    finally:
        for worker in workers:
            if worker.returncode is None:
                _kill(worker)
                worker.wait()


def _release_and_collect(workers, log_path):
    for worker in workers:
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a drain worker did not start; see {log_path}")
    started = time.perf_counter()
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.close()
    reports = []
    for worker in workers:
        with _killer(worker, COMMAND_TIMEOUT):
            line = worker.stdout.read().strip()
            worker.wait()
        if worker.returncode != 0 or not line:
            raise RuntimeError(f"a drain worker exited {worker.returncode}; see {log_path}")
        reports.append(json.loads(line.splitlines()[-1]))
    return time.perf_counter() - started, reports


def process_cpu_seconds(pid):
    """user + system CPU of a running process (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """(busy, total) CPU seconds of the whole machine so far, all cores (/proc/stat)."""
    # user nice system idle iowait irq softirq steal; guest time is already counted in user.
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / ticks, sum(values) / ticks


@contextlib.contextmanager
def _killer(process, timeout):
    """Kill `process` (by its pid) if it is still running after `timeout` seconds."""
    timer = threading.Timer(timeout, _kill, [process])
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _kill(process):
    # os.kill, not Popen.kill: Popen polls first, which would reap the child before wait4.
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGKILL)


def _wait_or_kill(process, timeout):
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
