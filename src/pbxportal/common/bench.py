"""The shared ``pbxportal bench`` command: apps add their benchmarks as its subcommands.

Each app's ``cli.register(subparsers)`` calls ``bench_subparsers(subparsers)`` and adds its own
``bench <name>`` parser to what it returns; the first caller creates ``bench``, later ones join it
(argparse refuses a second subparser of the same name).
"""

from __future__ import annotations

import argparse
from typing import Any

_BENCH: dict[int, Any] = {}


def bench_subparsers(subparsers: Any) -> Any:
    """The subparsers of ``pbxportal bench`` under the top-level ``subparsers``, created once."""
    key = id(subparsers)
    if key not in _BENCH:
        bench: argparse.ArgumentParser = subparsers.add_parser(
            "bench", help="benchmarks (docs/benchmarks.md)"
        )
        _BENCH[key] = bench.add_subparsers(dest="bench_command", required=True)
    return _BENCH[key]
