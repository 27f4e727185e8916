"""Matchers built from nothing, in a process of their own while the run goes on.

`core.entity_matches` screens against a matcher of each list's latest version. One built from
nothing (a new data folder, or a change of the matcher's code or libraries) takes 2-4 s for the
full SDN, the run's longest step at the demo's
size, on one core while the other is mostly idle. The sanctions staging step knows those
versions several steps before `entity_matches` runs, so it starts a process that builds the
missing matchers into the kept matchers' folder (`start`), exactly as `matcher_cache` would,
and `entity_matches` waits for that process (`wait`) and loads them. A new version of a list
whose names' records are kept is built by the step itself, in about a second.

Only a saving: a build that failed, timed out or ran other code than the run's leaves the
matcher to `entity_matches`, which builds what it does not find kept (its metadata says why).
Under Dagster's multiprocess executor each step runs in a process of its own: the build is
started by the staging step's process and ends with it, and `entity_matches` builds the matcher
itself. The files are named by their content (`matcher_cache`), so whichever process writes one
writes the same matcher.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

import duckdb
import polars as pl

from assets.resolution.config import MatchConfig

# What a list version's matcher is built from (`entity_matches` and the prebuild read alike).
LIST_PARTS = {
    "entries": "select entry_id, entity_type, name, programs, countries, listing_date, remarks, "
    "source_row_number from staging.sanctions_entries",
    "aliases": "select entry_id, alias, alias_type, quality from staging.sanctions_aliases",
    "identifiers": "select entry_id, scheme, value, country, is_valid "
    "from staging.sanctions_identifiers",
}

# `entity_matches` waits this long at most for a build ahead (the full SDN takes 2-4 s).
WAIT_SECONDS = 120.0
# `wait`'s answer when the process kept the matcher
BUILT = "built"


class _Build:
    """A process building matchers, started by a thread of its own: starting a spawned process
    writes its arguments (the lists' frames) to a pipe the new interpreter reads only once it
    is up, which would hold the run's step for a third of a second."""

    def __init__(self, process: BaseProcess) -> None:
        self.process = process
        self.error: BaseException | None = None
        self._starter = threading.Thread(target=self._start, name=f"{process.name}-start")
        self._starter.start()

    def _start(self) -> None:
        try:
            self.process.start()
        except BaseException as error:  # reported by `join`: the matchers are built where needed
            self.error = error

    def join(self, timeout: float) -> str:
        """Wait for the process (stopped after `timeout` seconds); `BUILT` or why not."""
        deadline = time.monotonic() + timeout
        self._starter.join(timeout)
        if self.error is not None:
            return f"the build ahead did not start: {self.error}"
        if self._starter.is_alive():
            return "the build ahead did not start in time"
        self.process.join(max(0.0, deadline - time.monotonic()))
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
            return f"the build ahead took over {timeout:.0f} s and was stopped"
        if self.process.exitcode != 0:
            return f"the build ahead ended with exit code {self.process.exitcode}"
        return BUILT

    def ended(self) -> bool:
        """Whether the process has ended (or never started)."""
        return not self._starter.is_alive() and (
            self.error is not None or not self.process.is_alive()
        )


# The builds started in this process, by the kept matcher each one builds.
_building: dict[Path, _Build] = {}


def list_parts(
    con: duckdb.DuckDBPyConnection, list_id: str, snapshot_date: object
) -> dict[str, pl.DataFrame]:
    """The staged frames (entries, aliases, identifiers) of one list version, in one order."""
    return {
        name: con.sql(
            query + " where list_id = $list and snapshot_date = $day order by all",
            params={"list": list_id, "day": snapshot_date},
        ).pl()
        for name, query in LIST_PARTS.items()
    }


def folder_of(build_path: str) -> Path:
    """The kept matchers' folder of a warehouse (beside its build database)."""
    return Path(build_path).parent / "matcher_cache"


def _build(digest: str, jobs: list[tuple[Path, str, dict[str, pl.DataFrame], MatchConfig]]) -> None:
    """In the process: build and keep each matcher. At the run's own priority: the run waits
    for it at `entity_matches` (at a lower one, the Great Expectations worker's import and
    other tenants of a 2-core machine left it 2.3-2.7 s behind, against 0.7-1.0 s)."""
    from assets.resolution import matcher_cache

    if matcher_cache.code_digest() != digest:
        # the code on disk changed since the run imported it: the files are named by the run's
        raise SystemExit(3)
    for path, list_id, parts, config in jobs:
        matcher_cache.build_at(path, list_id, parts, config)


def start(con: duckdb.DuckDBPyConnection, build_path: str, config: MatchConfig) -> list[Path]:
    """Start building the matchers of the staged lists' latest versions (the versions
    `entity_matches` screens against) that are not kept and would be built from nothing (no
    records of the list's names kept: `matcher_cache.names_path`); the kept matchers it will
    build."""
    from assets.resolution import matcher_cache

    folder = folder_of(build_path)
    for path, ended in [(p, b) for p, b in _building.items() if b.ended()]:
        del _building[path]  # an earlier run's build that no step waited for
        ended.join(0)
    jobs = []
    latest = con.execute(
        "select list_id, max(snapshot_date) from staging.sanctions_entries "
        "group by list_id order by list_id"
    ).fetchall()
    for list_id, day in latest:
        if matcher_cache.names_path(folder, list_id).is_file():
            # its names' records are kept: the step builds it in about a second, and the second
            # core is the suites' worker's (a list change ran 7.7-8.5 s so, 8.1-9.9 s with the
            # build ahead competing with the worker's import)
            continue
        parts = list_parts(con, list_id, day)
        path = matcher_cache.matcher_path(folder, list_id, parts, config)
        if not path.is_file() and path not in _building:
            jobs.append((path, list_id, parts, config))
    if not jobs:
        return []
    build = _Build(
        multiprocessing.get_context("spawn").Process(
            target=_build,
            args=(matcher_cache.code_digest(), jobs),
            name="chokepoint-matcher-build",
            daemon=True,
        )
    )
    for path, *_ in jobs:
        _building[path] = build
    return [path for path, *_ in jobs]


def wait(path: Path) -> str | None:
    """Wait for the process building the matcher kept at `path`, if this process started one:
    None if none was started, `BUILT` if it kept the matcher, else why it did not."""
    build = _building.pop(path, None)
    if build is None:
        return None
    outcome = build.join(WAIT_SECONDS)
    for other in [p for p, found in _building.items() if found is build and not p.is_file()]:
        del _building[other]  # its other lists, not built: built where they are needed
    return outcome if outcome != BUILT or path.is_file() else "the build ahead kept no matcher"
