"""The operator's commands of `chokepoint`, one module each, wired into `orchestration.cli.main`.

Each module has `add_to(commands)`, which adds its sub-parser and sets `run`. A command returns
its exit code: 0 done, 1 an operational failure (raised as `CommandError` or an `OSError`, shown
as one line by `run_reporting_errors`), 2 bad input (raised as `BadInput`, shown as one line).
"""

from __future__ import annotations

import argparse
from typing import Any


class BadInput(Exception):
    """The operator asked for something that cannot be done as given; exit code 2."""


def register(commands: Any) -> None:
    """Add every operator command to the `chokepoint` sub-parsers."""
    from orchestration.commands import build, land, query, report, rollback, screen, status

    for module in (status, land, build, rollback, query, report, screen):
        module.add_to(commands)


def add_command(
    commands: Any, name: str, summary: str, epilog: str = ""
) -> argparse.ArgumentParser:
    """A sub-parser whose `--help` shows the summary and the epilog as written."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=epilog or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser
