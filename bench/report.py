"""What the benchmark prints: one block per phase as it ends, then the targets as a Markdown table
(the one docs/PERFORMANCE.md shows)."""

import statistics

INDEX = "product_orders_monitor_due_idx"
SPEEDUP, FLOOR_FACTOR, CLAIM_MS, APPLY_MS, RSS_MB = 8.0, 1.5, 20.0, 2.0, 150.0


def machine(m):
    print(
        f"== machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, Django {m['django']}, "
        f"PostgreSQL {m['postgres']}; load average {m['load']:.2f} at start",
        flush=True,
    )


def load(rows, active, seconds, latency_ms, integrations):
    print(
        f"== data: {rows:,} rows in product_orders, {active:,} active; loaded in {seconds:.1f} s "
        "(INSERT ... SELECT generate_series, then VACUUM ANALYZE)"
    )
    print(
        f"   znet sandbox: its own process, one thread per connection, {latency_ms:g} ms per answer; "
        f"{integrations} integrations point at it",
        flush=True,
    )


def db(t, due, active):
    print(f"== database at scale: {len(t.claim_ms)} claims of 100 ({due:,} due among the active orders)")
    print(f"   claim_due_orders(100)           {_spread(t.claim_ms)}")
    print(f"   claim_due_orders(100): mean {statistics.fmean(t.claim_ms):.2f} ms = {_parts(t.claim_breakdown)}")
    print(f"   claim, nothing due              {_spread(t.empty_claim_ms)}")
    for state, values in t.apply_ms.items():
        print(f"   apply_check_result {state:<12} {_spread(values)}")
    print(f"   apply_check_result, all: mean {apply_mean(t):.2f} ms = {_parts(t.breakdown)}")
    print(f"   EXPLAIN (ANALYZE, BUFFERS) of the claim query, {due:,} due:")
    print(_indent(t.plan))
    print("   the same, nothing due:")
    print(_indent(t.empty_plan))
    print(f"   claim, all {active:,} active due   {_spread(t.backlog_claim_ms)}")
    print(f"   the claim query's plan, all {active:,} active orders due:")
    print(_indent(t.backlog_plan), flush=True)


def startup(seconds, all_seconds):
    print(
        f"== start-up: check_pending_orders --dry-run with nothing due: median {seconds:.2f} s ({_list(all_seconds)})",
        flush=True,
    )


def run(r, workers, per_integration, integrations, batch, latency_ms):
    parallel, sequential = r["parallel"], r["sequential"]
    print(f"== one check_pending_orders run over {batch} due orders (a subprocess; wall = start to exit)")
    print(
        f"   parallel   MONITOR_WORKERS={workers}, PER_INTEGRATION_CONCURRENCY={per_integration} x "
        f"{integrations} integrations (C={r['concurrency']}): {_command(parallel)}; "
        f"wall of the {len(r['parallel_all'])} runs: {_list([p.seconds for p in r['parallel_all']])}"
    )
    print(f"   sequential MONITOR_WORKERS=1: {_command(sequential)}")
    in_command = sequential.summary["seconds"] / parallel.summary["seconds"]
    print(f"   speed-up: {speedup(r):.1f}x wall, {in_command:.1f}x in-command")
    print(
        f"   floor: ceil({batch}/{r['concurrency']}) x {latency_ms:g} ms = {r['floor']:.2f} s; "
        f"wall / (floor + start-up {r['startup']:.2f} s) = {parallel.seconds / (r['floor'] + r['startup']):.2f}; "
        f"in-command / floor = {parallel.summary['seconds'] / r['floor']:.2f}",
        flush=True,
    )


def throughput_row(row):
    if row["processes"] == 1:
        print("== throughput: 2,000 due orders; N processes, each running the command until a run claims nothing")
        print("   processes  seconds  orders/s  runs  command CPU/order  sandbox CPU/order  machine CPU busy")
    print(
        f"   {row['processes']:>9}  {row['seconds']:>7.2f}  {row['orders_per_second']:>8.0f}  {row['runs']:>4}  "
        f"{row['command_cpu_ms_per_order']:>14.2f} ms  {row['sandbox_cpu_ms_per_order']:>14.2f} ms  "
        f"{row['machine_busy']:>15.0%}",
        flush=True,
    )


def summary(results):
    rows = [
        check(results)
        for check in (
            _speedup_row,
            _floor_row,
            _claim_row,
            _backlog_claim_row,
            _index_row,
            _apply_row,
            _throughput_row,
            _rss_row,
        )
    ]
    print("== targets")
    print("| what | measured | target | met |")
    print("|---|---|---|---|")
    for what, measured, target, met in rows:
        print(f"| {what} | {measured} | {target} | {'yes' if met else 'NO'} |")
    missed = [row[0] for row in rows if not row[3]]
    line = f"== {len(rows) - len(missed)} of {len(rows)} targets met"
    print(line + (f"; missed: {'; '.join(missed)}" if missed else ""))


def speedup(r):
    return r["sequential"].seconds / r["parallel"].seconds


def apply_mean(t):
    return statistics.fmean(ms for values in t.apply_ms.values() for ms in values)


# -- one row of the targets table each: (what, measured, target, met) --------------------------
def _speedup_row(results):
    r = results["run"]
    measured = f"{speedup(r):.1f}x ({r['sequential'].seconds:.2f} s / {r['parallel'].seconds:.2f} s)"
    return "speed-up, 100 orders, parallel vs sequential", measured, f">= {SPEEDUP:g}x", speedup(r) >= SPEEDUP


def _floor_row(results):
    r = results["run"]
    budget = FLOOR_FACTOR * r["floor"] + r["startup"]
    measured = f"{r['parallel'].seconds:.2f} s (floor {r['floor']:.2f} s, start-up {r['startup']:.2f} s)"
    target = f"<= {FLOOR_FACTOR:g} x floor + start-up = {budget:.2f} s"
    return "parallel run vs floor + start-up", measured, target, r["parallel"].seconds <= budget


def _claim_row(results):
    claim_ms = results["db"].claim_ms
    median = statistics.median(claim_ms)
    measured = f"{median:.1f} ms (max {max(claim_ms):.1f})"
    return "claim of 100, 1M rows (median)", measured, f"< {CLAIM_MS:g} ms", median < CLAIM_MS


def _backlog_claim_row(results):
    claim_ms = results["db"].backlog_claim_ms
    median = statistics.median(claim_ms)
    measured = f"{median:.1f} ms (max {max(claim_ms):.1f})"
    return "claim of 100, every active order due (median)", measured, f"< {CLAIM_MS:g} ms", median < CLAIM_MS


def _index_row(results):
    used = INDEX in results["db"].plan
    return f"claim query uses {INDEX}", "yes" if used else "no", "yes", used


def _apply_row(results):
    t = results["db"]
    database_ms = t.breakdown["sql_ms"] + t.breakdown["commit_ms"]
    measured = f"{apply_mean(t):.2f} ms (SQL + COMMIT {database_ms:.2f} ms)"
    return "DB time per order (apply_check_result, mean)", measured, f"< {APPLY_MS:g} ms", apply_mean(t) < APPLY_MS


def _throughput_row(results):
    rates = [row["orders_per_second"] for row in results["throughput"]]
    measured = " / ".join(f"{rate:.0f}" for rate in rates) + " orders/s"
    grows = all(later > earlier for earlier, later in zip(rates, rates[1:], strict=False))
    return "throughput, 1 / 2 / 4 processes", measured, "grows with processes", grows


def _rss_row(results):
    rss = results["run"]["peak_rss_mb"]
    return "peak RSS of one run", f"{rss:.0f} MB", f"< {RSS_MB:g} MB", rss < RSS_MB


# -- formatting ---------------------------------------------------------------------------------
def _command(run):
    return (
        f"wall {run.seconds:.2f} s, in-command {run.summary['seconds']:.2f} s, CPU {run.cpu_seconds:.2f} s, "
        f"peak RSS {run.rss_mb:.0f} MB"
    )


def _parts(b):
    return (
        f"{b['statements']:.1f} statements {b['sql_ms']:.2f} ms + COMMIT {b['commit_ms']:.2f} ms "
        f"+ Python/ORM {b['python_ms']:.2f} ms"
    )


def _spread(values):
    ordered = sorted(values)
    p95 = ordered[round(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms, max {ordered[-1]:.2f} ms (n={len(values)})"


def _list(values):
    return ", ".join(f"{v:.2f}" for v in values) + " s"


def _indent(text):
    return "\n".join("     " + line for line in text.splitlines())
