"""The znet sandbox as its own process for the benchmark:
`sandbox_server.py LATENCY_MS KOD SIFRE PREFIX COUNT`.

A separate process, so that its HTTP handling does not share a GIL with the command being
measured; one thread per connection, so 100 ms answers overlap freely. It knows the references
PREFIX1 .. PREFIX<COUNT> (the benchmark's active orders, bulk-loaded into the database and never
placed over HTTP); each check answers "completed". Prints its base URL, then serves until its
stdin closes: it cannot outlive the benchmark.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.znet import SandboxConfig, ZnetSandbox  # noqa: E402


def main():
    latency_ms, kod, sifre, prefix, count = sys.argv[1:6]
    config = SandboxConfig(kod=kod, sifre=sifre, checks_until_final=1, latency=float(latency_ms) / 1000, seed=1)
    sandbox = ZnetSandbox(config)
    for n in range(1, int(count) + 1):
        sandbox.add_order(f"{prefix}{n}")
    sandbox.start(port=0)
    print(sandbox.base_url, flush=True)
    sys.stdin.read()  # EOF: the benchmark ended (or died)
    sandbox.stop()


if __name__ == "__main__":
    main()
