"""Benchmarks of pyexchange: ``python -m benchmarks <name>`` (``make bench BENCH_ARGS=<name>``).

A benchmark is not a test: it prints numbers, compared side by side with a baseline measured
on the same server in the same run. Shared helpers (bench databases, pgbench runs and their
parsing, relation sizes) are in :mod:`benchmarks.common`.
"""
