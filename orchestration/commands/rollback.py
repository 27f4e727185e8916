"""`chokepoint rollback`: put the previous publication back as the published warehouse.

Publishing keeps the files it replaces in `warehouse/history/` (`CHOKEPOINT_KEEP_PUBLISHED`, see
`assets.common.warehouse.publish`). Rollback takes the run lock (no build runs meanwhile), moves
the current published file to `history/rolled_back/` (never chosen again by a rollback; the
newest `CHOKEPOINT_KEEP_PUBLISHED` are kept there)
and renames the newest kept file over the published one: readers see the old file or the new,
never a mix. The next build starts from what is then published.
"""

from __future__ import annotations

import argparse
import os
import uuid
from pathlib import Path
from typing import Any

import duckdb

from assets.common.run_lock import WarehouseBusy, run_lock
from assets.common.warehouse import (
    fsync_directory,
    history,
    history_dir,
    kept_publications,
    publication_of,
)
from orchestration.commands import add_command
from orchestration.commands.published import current_settings
from orchestration.settings import Settings


def add_to(commands: Any) -> None:
    parser = add_command(
        commands,
        "rollback",
        "replace the published warehouse with the newest kept earlier publication",
        "Exit codes: 0 rolled back (or --list), 1 nothing kept to roll back to, or a build\n"
        "holds the warehouse for longer than --wait.",
    )
    parser.add_argument("--list", action="store_true", help="only list the kept publications")
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long to wait for a running build to finish (default: do not wait)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from orchestration.cli import CommandError

    settings = current_settings()
    kept = history(settings.warehouse_path)
    if args.list:
        for path in kept:
            print(path)
        if not kept:
            print(f"no earlier publication kept in {history_dir(settings.warehouse_path)}")
        return 0
    try:
        restored, set_aside = rollback(settings, wait_seconds=args.wait)
    except WarehouseBusy as busy:
        raise CommandError(str(busy)) from None
    print(f"published warehouse {settings.warehouse_path} is now {restored.name}")
    print(f"the file it replaced is kept as {set_aside}")
    return 0


def rollback(settings: Settings, wait_seconds: float = 0.0) -> tuple[Path, Path]:
    """Swap the newest kept publication back in; (the file restored, where the replaced one went).

    Raises CommandError when nothing is kept, WarehouseBusy when a run holds the lock.
    """
    from orchestration.cli import CommandError

    published = settings.warehouse_path
    lock = settings.build_path.with_name(settings.build_path.name + ".lock")
    with run_lock(lock, f"rollback-{uuid.uuid4()}", wait_seconds=wait_seconds):
        kept = history(published)
        if not kept:
            raise CommandError(
                f"no earlier publication kept in {history_dir(published)} to roll back to"
            )
        newest = kept[0]
        con = duckdb.connect(str(newest), read_only=True)  # refuse a file DuckDB cannot open
        con.close()
        aside = history_dir(published) / "rolled_back"
        aside.mkdir(parents=True, exist_ok=True)
        set_aside = published
        if published.exists():
            at, run_id = publication_of(published)
            set_aside = aside / f"{at}-{run_id}.duckdb"
            if not set_aside.exists():
                os.link(published, set_aside)
        os.replace(newest, published)  # same folder tree, one rename: atomic for readers
        for folder in (published.parent, newest.parent, aside):
            fsync_directory(folder)
        # files set aside are kept as many as publications are (CHOKEPOINT_KEEP_PUBLISHED)
        for stale in sorted(aside.glob("*.duckdb"), reverse=True)[kept_publications() :]:
            stale.unlink(missing_ok=True)
    return newest, set_aside
