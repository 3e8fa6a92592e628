"""``python -m benchmarks <name> [options]``: run one benchmark (``ledger``, ...)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {"ledger": "benchmarks.ledger", "trading": "benchmarks.trading",
              "floor": "benchmarks.floor",
              "relay": "benchmarks.relay", "risk": "benchmarks.risk",
              "instructions": "benchmarks.instructions",
              "submit": "benchmarks.submit", "batch": "benchmarks.batch",
              "inbox": "benchmarks.inbox"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in BENCHMARKS:
        print("usage: python -m benchmarks {" + ",".join(sorted(BENCHMARKS)) + "} [options]"
              "\n       (make bench BENCH_ARGS='ledger --help')", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHMARKS[argv[0]])
    result: int = module.main(argv[1:])
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
