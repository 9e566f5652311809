"""What the operators see of the monitor: `monitor_health` (the report: its queries, its rules,
its text and JSON), the Prometheus metrics file, and stuck orders (`release_stuck_orders`)."""
