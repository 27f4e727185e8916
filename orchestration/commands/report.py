"""`chokepoint report`: the path of the latest run's report (HTML) for an auditor.

Publication writes `report.html` and `manifest.json` into the reports folder at a stable path
(and per run under `runs/<run_id>/`); this prints the stable one, or exits 1 when there is none.
"""

from __future__ import annotations

import argparse
from typing import Any

from orchestration.commands import add_command
from orchestration.commands.published import current_settings


def add_to(commands: Any) -> None:
    parser = add_command(
        commands,
        "report",
        "print the path of the latest publication's report (HTML)",
        "Exit codes: 0 printed, 1 no report yet.",
    )
    parser.add_argument(
        "--manifest", action="store_true", help="print the manifest (JSON) path instead"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from orchestration.cli import CommandError

    settings = current_settings()
    path = settings.reports_dir / ("manifest.json" if args.manifest else "report.html")
    if not path.is_file():
        raise CommandError(f"no report at {path}: run `chokepoint build` first")
    print(path)
    return 0
