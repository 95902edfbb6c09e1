"""Benchmark harness for rq-gateway: `python -m bench.run` (see bench/README.md and BENCHMARKS.md)."""
