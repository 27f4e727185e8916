"""The DuckDB warehouse: a private build file the pipeline writes, and a published copy for readers.

DuckDB lets only one process open a file while a writer holds it, and a reader's connection
blocks the writer. So the pipeline writes `*.build.duckdb` (a copy of the published file made
when the run starts), and publishing closes it, checks it and atomically renames it over the
published one. Readers open the published file read-only at any time; a reader that is already
open keeps the snapshot it opened.

Publishing keeps the files it replaces: the previous published file is hard-linked into
`history/<published_at>-<run_id>.duckdb` beside it before the rename, and the history is pruned
to the newest `CHOKEPOINT_KEEP_PUBLISHED` files (default 3), so `chokepoint rollback` can put the
previous publication back.

A run holds the warehouse for its whole duration (one writer, see `run_lock`), and a run that
publishes starts its build file from the published copy: whatever a failed or killed run wrote
into the build file is discarded, never published by a later run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb
import polars as pl
from dagster import DagsterRun
from pydantic import PrivateAttr

from assets.common.run_lock import Holder, run_lock
from assets.common.sql import LAYERS, load, quote_ident, table_ref

# Analysts on DuckDB 1.5 clients can still open what we publish.
_STORAGE_COMPAT = "v1.5.0"

_T = TypeVar("_T")

# The last step of a build: a run that executes it publishes, so it starts from what is published.
PUBLICATION_KEY = dg.AssetKey(["audit", "publications"])


class PartialReExecution(RuntimeError):
    """A re-execution of some steps whose parent's build file is gone: it must run them all."""


class SplitWarehouse(RuntimeError):
    """The build file and the published file are on different file systems: no rename joins them."""


# DuckDB's memory limit in a run's process (the settings' DUCKDB_MEMORY_LIMIT, which the
# command line cannot import from here without Dagster): with the suites' worker beside it, a
# 50M-declaration build peaked at 3.85 GB (4.07 GB with 3 GB; benchmarks/RESULTS.md).
MEMORY_LIMIT = "2.5GB"


class Warehouse(dg.ConfigurableResource):  # type: ignore[misc]
    """DuckDB warehouse with a private build file and an atomically published copy."""

    build_path: str
    published_path: str
    # DuckDB spills to disk beyond this; its default (80% of RAM) lets joins take the machine.
    memory_limit: str = MEMORY_LIMIT
    # How long a run waits for the run that holds the warehouse before it declines.
    lock_wait_seconds: float = 1800.0
    # During a run the build database stays open from the first step to publication, and each
    # step gets a connection (a DuckDB cursor) of its own: opening the file, creating the
    # schemas and checkpointing per step cost about 50 ms a step, 130 steps a demo build.
    # A step that leaves more than this in DuckDB's buffers closes it (the next step opens it
    # again), so that memory stays bounded by the largest step, not by all steps' data cached.
    keep_open_max_bytes: int = 512 * 1024 * 1024
    _database: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _kept_open: bool = PrivateAttr(default=False)
    _published: bool = PrivateAttr(default=False)
    # In a run, the oldest kept publication is deleted while the run ends (see `publish`).
    _pruning: _Pruning | None = PrivateAttr(default=None)

    @property
    def lock_path(self) -> Path:
        """The run lock's file, beside the build database."""
        return Path(self.build_path + ".lock")

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Warehouse]:
        """Hold the run lock for the whole run; a publishing run starts from the published copy.

        Outside a run (a sensor reading the published file, a resource built in a unit test)
        nothing is locked or reset: a sensor tick must not wait for a build.
        """
        run = context.run
        if run is None:
            yield self
            return

        def waiting(holder: Holder | None) -> None:
            if context.log is not None:
                who = holder.describe() if holder else "another run"
                context.log.info(
                    f"waiting up to {self.lock_wait_seconds:g} s for {who} to finish "
                    "with the warehouse"
                )

        with run_lock(
            self.lock_path, run.run_id, wait_seconds=self.lock_wait_seconds, on_wait=waiting
        ):
            publishes = run_executes(run, context.instance, PUBLICATION_KEY.to_python_identifier())
            if publishes:
                self.require_one_file_system()  # before any work, not at its end
            if publishes and continues_parent(run.parent_run_id, Path(self.build_path)):
                # A re-execution (or retry) of the run that wrote the build file last: it goes
                # on from where that run stopped, instead of losing the steps it had done.
                if context.log is not None:
                    context.log.info(f"build file kept: it continues run {run.parent_run_id}")
            elif publishes and run.parent_run_id and self.published_by(run.parent_run_id):
                # The parent published (its build file became the published file), then failed
                # (its reports): the published file holds every step it ran, so the steps
                # re-executed now go on from a copy of it.
                self.start_from_published()
                if context.log is not None:
                    context.log.info(
                        f"run {run.parent_run_id} published before it failed: its re-executed "
                        "steps start from the published warehouse"
                    )
            elif publishes and _drops_parent_steps(run, context.instance):
                # Only some steps would run, on a copy that lacks what the parent's other steps
                # built (another run wrote since): publishing it would lose those steps' work.
                raise PartialReExecution(
                    f"this run re-executes only some steps of run {run.parent_run_id}, but "
                    "another run has written the warehouse since (or that run's build file "
                    "is gone); re-execute all steps"
                )
            elif publishes or not Path(self.build_path).exists():
                # (a run that does not publish, after a publication moved the build file away,
                # starts from the published file too)
                started = time.monotonic()
                source = self.start_from_published()
                if context.log is not None:
                    context.log.info(
                        f"build file started from {source or 'empty'} "
                        f"in {time.monotonic() - started:.2f} s"
                    )
            self._kept_open, self._published = True, False
            try:
                yield self
            finally:
                self._kept_open, self._published = False, False
                self.close_database()
                error = self.finish_pruning()
                if error is not None and context.log is not None:
                    context.log.warning(
                        f"the kept publications beyond the newest {kept_publications()} were "
                        f"not all deleted ({error}); the next publication tries again"
                    )

    def require_one_file_system(self) -> None:
        """Refuse a build file and a published file that a rename cannot join (see `publish`)."""
        folders = [Path(self.build_path).parent, Path(self.published_path).parent]
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        if folders[0].stat().st_dev != folders[1].stat().st_dev:
            raise SplitWarehouse(
                f"the build file's folder ({folders[0]}) and the published file's folder "
                f"({folders[1]}) are on different file systems: a run publishes by renaming its "
                "build file over the published one, so both must be on one file system "
                "(keep them in one folder, as the settings do by default)"
            )

    def start_from_published(self) -> Path | None:
        """Replace the build file (and any WAL) with a copy of the published file, or nothing."""
        build, published = Path(self.build_path), Path(self.published_path)
        build.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (build, _wal(build)):
            leftover.unlink(missing_ok=True)
        if not published.exists():
            return None
        # Copied under another name first: a run killed mid-copy leaves no half-copied build file.
        partial = build.with_name(build.name + ".starting")
        shutil.copyfile(published, partial)
        os.replace(partial, build)
        return published

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the build database with every layer's schema present.

        In a run, a cursor of the database the run keeps open (closed by `publish` and at the
        end of the run); outside one, a database opened for the block and checkpointed after it.
        """
        if self._published:
            raise RuntimeError(
                "this run has published its build file; a later step cannot write to it"
            )
        if not self._kept_open:
            con = self._open()
            try:
                yield con
                con.execute("checkpoint")
            finally:
                con.close()
            return
        if self._database is None:
            self._database = self._open()
        cursor = self._database.cursor()
        try:
            yield cursor
        except BaseException:
            # The step failed, perhaps with an error that invalidated the database: let the next
            # step open the file afresh (what was committed is in the file or its WAL).
            self._discard_database(cursor)
            raise
        cursor.close()  # its temporary tables go
        if self._database is not None and (
            _buffered_bytes(self._database) > self.keep_open_max_bytes
        ):
            self.close_database()

    def read_closed(self, read: Callable[[duckdb.DuckDBPyConnection], _T]) -> _T:
        """`read` over the build file as it is on disk: closed (checkpointed), opened read-only."""
        if not Path(self.build_path).exists():
            with self.connect():
                pass  # an empty warehouse: its schemas
        self.close_database()
        con = self._open_read_only(Path(self.build_path))
        try:
            return read(con)
        finally:
            con.close()

    def _open_read_only(self, path: Path) -> duckdb.DuckDBPyConnection:
        """The closed file, read-only, within the run's memory limit.

        Without the limit DuckDB keeps (up to 80% of the machine's memory) every block a
        whole-file read such as the checksums scans: 6.7 GB at 50M declarations.
        """
        return duckdb.connect(str(path), read_only=True, config={"memory_limit": self.memory_limit})

    def _discard_database(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Close the kept database after a failed step, keeping the step's own error."""
        database, self._database = self._database, None
        for handle in (cursor, database):
            if handle is not None:
                with contextlib.suppress(duckdb.Error):
                    handle.close()  # an open transaction is rolled back

    def close_database(self) -> None:
        """Checkpoint and close the database a run keeps open (if any): the file is then whole."""
        database, self._database = self._database, None
        if database is not None:
            try:
                database.execute("checkpoint")
            finally:
                database.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        path = Path(self.build_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(
            str(path),
            config={
                "storage_compatibility_version": _STORAGE_COMPAT,
                "memory_limit": self.memory_limit,
                "temp_directory": str(path.parent / "duckdb_tmp"),
                "preserve_insertion_order": False,
                # Checkpoint when the database closes, not every 16 MB of WAL mid-step.
                "checkpoint_threshold": "1GB",
            },
        )
        try:
            for layer in LAYERS:
                con.execute(f"create schema if not exists {quote_ident(layer)}")
            con.execute(load("audit", "step_log"))
        except BaseException:
            con.close()
            raise
        return con

    def publish(self, verify: Callable[[duckdb.DuckDBPyConnection], None]) -> Path:
        """Close the build file, check it, and rename it over the published warehouse.

        `verify` gets the closed build file opened read-only and raises if its contents are not
        what the run recorded; the published file is then left as it was. The file replaced is
        kept in `history/` (see `keep_in_history`). Renaming, not copying: the build file was
        itself copied from the published one when the run started, so one copy per run is
        enough, and a rename within a folder is atomic and needs no free space.
        """
        keep = kept_publications()
        self.close_database()
        build, published = Path(self.build_path), Path(self.published_path)
        if _wal(build).exists():
            raise RuntimeError(f"{build} still has a write-ahead log after its checkpoint")
        with open(build, "rb") as handle:
            os.fsync(handle.fileno())
        con = self._open_read_only(build)
        try:
            verify(con)
        finally:
            con.close()
        published.parent.mkdir(parents=True, exist_ok=True)
        if published.exists():
            keep_in_history(published, keep)
        os.replace(build, published)
        # In a run, the build file is now the published one: no later step may write to it.
        self._published = self._kept_open
        fsync_directory(published.parent)
        if self._kept_open:
            # In a run: the last link of a publication is its whole file's blocks to free
            # (0.5 s for a 10M-declaration warehouse). Done while the run's other steps and
            # resources end; the run waits for it before it lets the run lock go.
            self._pruning = _Pruning(published, keep)
            self._pruning.start()
        else:
            prune_history(published, keep)
        return published

    def finish_pruning(self) -> BaseException | None:
        """Wait until the kept publications beyond the newest few are deleted (see `publish`);
        what stopped that, if anything (the publication itself stands)."""
        pruning, self._pruning = self._pruning, None
        if pruning is None:
            return None
        pruning.join()
        return pruning.error

    def published_by(self, run_id: str) -> bool:
        """Whether this run's publication already happened (its build file became the published)."""
        published = Path(self.published_path)
        if Path(self.build_path).exists() or not published.exists():
            return False
        return publication_of(published)[1] == run_id


def _buffered_bytes(database: duckdb.DuckDBPyConnection) -> int:
    """Bytes DuckDB holds in memory for the database (its buffers, caches and temporaries)."""
    row = database.execute("select sum(memory_usage_bytes) from duckdb_memory()").fetchone()
    return int(row[0] or 0) if row else 0


def kept_publications() -> int:
    """How many replaced publications `publish` keeps (`CHOKEPOINT_KEEP_PUBLISHED`, default 3)."""
    value = os.environ.get("CHOKEPOINT_KEEP_PUBLISHED", "")
    if not value:
        return 3
    if not value.isdigit():
        raise ValueError(f"CHOKEPOINT_KEEP_PUBLISHED must be a whole number >= 0, not {value!r}")
    return int(value)


def history_dir(published: Path) -> Path:
    """The folder of replaced publications, beside the published file."""
    return published.parent / "history"


def history(published: Path) -> list[Path]:
    """Kept publications, newest first (their names start with the publication time)."""
    folder = history_dir(published)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.duckdb"), key=lambda path: path.name, reverse=True)


def publication_of(path: Path) -> tuple[str, str]:
    """(published_at as `YYYYmmddTHHMMSSZ`, run id) of a published file's latest publication.

    A file without a readable `audit.publications` is named by its modification time.
    """
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows = con.execute(
                "select run_id, published_at from audit.publications "
                "order by published_at desc limit 1"
            ).fetchall()
        finally:
            con.close()
    except duckdb.Error:
        rows = []
    if rows and rows[0][1] is not None:
        run_id, at = rows[0]
        return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"), str(run_id)
    at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return at.strftime("%Y%m%dT%H%M%SZ"), "unknown-run"


def keep_in_history(published: Path, keep: int) -> Path | None:
    """Hard-link the published file into the history (a copy where links are refused).

    A link costs no space and leaves the published file in place: a crash before the rename
    that follows changes nothing a reader sees.
    """
    if keep <= 0:
        return None
    at, run_id = publication_of(published)
    folder = history_dir(published)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{at}-{run_id}.duckdb"
    if target.exists():  # already kept (a publish that stopped after linking)
        return target
    try:
        os.link(published, target)
    except OSError:
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(published, partial)
        os.replace(partial, target)
    fsync_directory(folder)
    return target


class _Pruning(threading.Thread):
    """`prune_history` in a thread of its own, keeping what stopped it."""

    def __init__(self, published: Path, keep: int) -> None:
        super().__init__(name="prune-history")
        self.published, self.keep = published, keep
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            prune_history(self.published, self.keep)
        except BaseException as error:
            self.error = error


def prune_history(published: Path, keep: int) -> list[Path]:
    """Delete kept publications beyond the newest `keep`; returns what was deleted."""
    removed = history(published)[keep:]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def fsync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable (the directory entry, not only the file)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def continues_parent(parent_run_id: str | None, build: Path) -> bool:
    """Whether the build file was last written by `parent_run_id` (a re-executed run's parent)."""
    if parent_run_id is None or not build.exists():
        return False
    try:
        con = duckdb.connect(str(build), read_only=True)
    except duckdb.Error:
        return False
    try:
        if not table_exists(con, "audit", "step_log"):
            return False
        last = con.execute(
            "select run_id from audit.step_log order by logged_at desc limit 1"
        ).fetchall()
    finally:
        con.close()
    return bool(last) and last[0][0] == parent_run_id


def _steps(run: DagsterRun, instance: dg.DagsterInstance | None) -> set[str] | None:
    """The step keys a run executes (None when its plan cannot be read)."""
    steps = run.step_keys_to_execute
    if steps is None and run.execution_plan_snapshot_id and instance is not None:
        plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        steps = plan.step_keys_to_execute or [step.key for step in plan.steps]
    return set(steps) if steps is not None else None


def run_executes(run: DagsterRun, instance: dg.DagsterInstance | None, step_key: str) -> bool:
    """Whether the run executes the given step (True when the run's plan cannot be read)."""
    steps = _steps(run, instance)
    return steps is None or step_key in steps


def _drops_parent_steps(run: DagsterRun, instance: dg.DagsterInstance | None) -> bool:
    """Whether the run re-executes only some of its parent's steps (e.g. "from failure")."""
    if run.parent_run_id is None or run.step_keys_to_execute is None or instance is None:
        return False
    parent = instance.get_run_by_id(run.parent_run_id)
    parent_steps = _steps(parent, instance) if parent is not None else None
    return parent_steps is not None and set(run.step_keys_to_execute) < parent_steps


def replace_table(
    con: duckdb.DuckDBPyConnection, layer: str, table: str, frame: pl.DataFrame
) -> int:
    """Replace `layer.table` with a frame's rows (an empty frame keeps its schema)."""
    target = table_ref(layer, table)
    con.register("_frame", frame.to_arrow())
    try:
        con.execute(f"create or replace table {target} as select * from _frame")  # noqa: S608
    finally:
        con.unregister("_frame")
    return frame.height


def replace_partition(
    con: duckdb.DuckDBPyConnection,
    layer: str,
    table: str,
    frame: pl.DataFrame,
    partition_column: str,
    partition_values: list[str],
) -> int:
    """Replace the rows of the given partitions in `layer.table` (created on first write)."""
    target = table_ref(layer, table)
    con.register("_frame", frame.to_arrow())
    try:
        con.execute(f"create table if not exists {target} as select * from _frame limit 0")  # noqa: S608
        con.execute("begin transaction")
        con.execute(
            f"delete from {target} where {quote_ident(partition_column)} in "  # noqa: S608
            "(select unnest($values))",
            {"values": partition_values},
        )
        con.execute(f"insert into {target} by name select * from _frame")  # noqa: S608
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_frame")
    return frame.height


def log_step(
    con: duckdb.DuckDBPyConnection,
    context: dg.AssetExecutionContext,
    *,
    rows_received: int | None,
    rows_written: int,
    rows_quarantined: int = 0,
    asset_key: dg.AssetKey | None = None,
) -> None:
    """Append one row per asset step to `audit.step_log` (name the key in a multi-asset)."""
    partition = None
    if context.has_partition_key_range:
        key_range = context.partition_key_range
        partition = (
            key_range.start
            if key_range.start == key_range.end
            else f"{key_range.start}..{key_range.end}"
        )
    elif context.has_partition_key:  # a run of one partition (`dagster/partition`)
        partition = context.partition_key
    con.execute(
        "insert into audit.step_log values ($run, $asset, $partition, $received, $written, "
        "$quarantined, $at)",
        {
            "run": context.run.run_id,
            "asset": (asset_key or context.asset_key).to_user_string(),
            "partition": partition,
            "received": rows_received,
            "written": rows_written,
            "quarantined": rows_quarantined,
            "at": datetime.now(UTC),
        },
    )


def scalar(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object] | None = None
) -> object:
    """First column of the first row of a query, or None.

    Reads the whole result: under DuckDB 2.0 a partly fetched result blocks the connection.
    """
    rows = con.execute(query, params or {}).fetchall()
    return rows[0][0] if rows else None


def table_exists(con: duckdb.DuckDBPyConnection, layer: str, table: str) -> bool:
    """Whether `layer.table` exists in the database."""
    return bool(
        scalar(
            con,
            "select count(*) from duckdb_tables() where schema_name = $s and table_name = $t",
            {"s": layer, "t": table},
        )
    )
