"""`chokepoint build [--months FROM..TO] [--family NAME]`: one run over the landed months.

Wraps `orchestration.cli.build` (one line per layer as it ends, Dagster's log in a file under
`<data dir>/logs/`, `--verbose` for Dagster's log on the console; failed checks and failed steps
are summed up at the end in one line each). Without `--months` the run covers
every month from the first to the last with a customs file in the landing area. With
`--family` the run is that family's `load_<family>` job (what its sensor launches).
"""

from __future__ import annotations

import argparse
import os
import re
import time
from typing import Any

from assets.landing.families import FAMILIES
from orchestration.commands import BadInput, add_command
from orchestration.commands.published import current_settings

_RANGE = re.compile(
    r"^(?P<first>[0-9]{4}-(?:0[1-9]|1[0-2]))\.\.(?P<last>[0-9]{4}-(?:0[1-9]|1[0-2]))$"
)


def add_to(commands: Any) -> None:
    from orchestration import cli

    parser = add_command(
        commands,
        "build",
        "build every asset in one run over the landed months and publish the warehouse",
        "Exit codes: 0 built and published, 1 the run failed (each failed step and check is\n"
        "printed; the published warehouse is then unchanged), 2 bad --months.",
    )
    parser.add_argument(
        "--months",
        metavar="FROM..TO",
        help="only these months, e.g. 2024-01..2024-03 (default: first to last customs month)",
    )
    parser.add_argument(
        "--family",
        choices=[family.name for family in FAMILIES],
        help="only this source family and what depends on it (the job its sensor launches)",
    )
    cli.add_verbose(parser)
    parser.set_defaults(run=run)


def month_range(text: str) -> tuple[str, str]:
    """`2024-01..2024-03` as ('2024-01', '2024-03'); BadInput when malformed or reversed."""
    match = _RANGE.match(text)
    if match is None:
        raise BadInput(f"--months {text!r}: write FROM..TO as YYYY-MM..YYYY-MM")
    first, last = match["first"], match["last"]
    if first > last:
        raise BadInput(f"--months {text!r}: {first} comes after {last}")
    return first, last


def run(args: argparse.Namespace) -> int:
    from orchestration import cli

    months = month_range(args.months) if args.months else None
    if args.verbose:
        os.environ["CHOKEPOINT_VERBOSE"] = "1"
    settings = current_settings()
    cli.check_writable(cli.writable_folders(settings))
    cli.prepare_dagster_home(settings)
    started = time.monotonic()
    job = f"load_{args.family}" if args.family else "build_everything"
    ok = cli.build(settings, months, job)
    print(f"build {'succeeded' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    if ok:
        print(f"warehouse: {settings.warehouse_path}")
    return 0 if ok else 1
