"""The benchmarks, run as scripts (make bench-*); a package so that the tests import bench.schedule_eval."""
