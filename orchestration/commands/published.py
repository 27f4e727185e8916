"""Read-only access to the published warehouse, shared by the commands that read it.

Commands open the published file read-only, never the build file: a reader never blocks a run,
and a run in progress never changes what a reader sees (it renames a new file into place).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from orchestration.settings import Settings


def current_settings() -> Settings:
    """Settings from the environment; a bad variable is an operational error (one line)."""
    from orchestration.cli import CommandError

    try:
        return Settings.from_env()
    except ValueError as error:
        raise CommandError(str(error)) from error


@contextmanager
def published(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published warehouse, or CommandError when there is none."""
    from orchestration.cli import CommandError

    path = settings.warehouse_path
    if not path.is_file():
        raise CommandError(f"no published warehouse at {path}: run `chokepoint build` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()
