"""`chokepoint screen ...`: screen a file of names against a sanctions list file.

Delegates every argument to `assets.resolution.screen.main` (its own `--help`, options and exit
codes: 0 done, 2 bad input).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_to(commands: Any) -> None:
    # No options of its own (`--help` included): `chokepoint.cli.main` hands every argument after
    # `screen` to the screening tool's parser.
    summary = "screen a CSV of names against a list file (see `chokepoint screen --help`)"
    parser = commands.add_parser("screen", help=summary, description=summary, add_help=False)
    parser.set_defaults(run=run, passes_arguments_on=True, arguments=[])


def run(args: argparse.Namespace) -> int:
    from assets.resolution.screen import main

    return main(args.arguments)
