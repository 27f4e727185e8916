"""Dagster's local SQLite event log, with one open connection per shard for the length of a run.

Dagster's SQLite event log creates an engine and opens a connection for every event, then closes
it (SQLAlchemy's `NullPool`, `engine.dispose()`). That costs, per event: a new connection;
SQLAlchemy compiling the INSERT again (its statement cache lives in the engine); and, on close
of the last connection to a WAL database, a checkpoint with an fsync, with another fsync per
commit (`synchronous=FULL`). A demo build writes some 1,500 events (materializations and plans
per month partition, checks, step events), most of them twice (the run's shard and the
cross-run index), so this was a fifth of the build.

`event_log_kept_open` gives the run's two shards one engine each for the length of the run:
one connection kept open (`StaticPool`; every use is serialized by the storage's own lock, as
before) and `synchronous=NORMAL`, what SQLite recommends with WAL: a power cut may lose the last
events, never corrupt the file. Other shards, and other processes, are served as Dagster does.
The answers to two questions Dagster asks of the schema on every event are kept for the run.

A run over months writes, per monthly asset, one planned and one done materialization per month
(about 1,100 of a demo build's 1,560 events; over a second of it). Dagster hands those to the
storage in batches when `DAGSTER_EVENT_BATCH_SIZE` is set (a step's materializations of one
output; the run's planned materializations), but its SQLite storage writes a batch one event at
a time. While the run's shards are kept open, a batch of asset events is written as Dagster's
PostgreSQL storage writes one (`dagster_postgres`' `store_event_batch`), in one transaction per
shard: the rows into the index (an INSERT per row, SQLAlchemy's way to return the ids in order
on SQLite), their tags in one statement, the asset's entry updated from its last event only
(each event would overwrite the columns the one before it set), and the rows into the run's
shard in one statement. Events of other kinds go through Dagster's `store_event`, in order.
Only the CLI build uses it: runs launched by the daemon write their events as Dagster does.
"""

import itertools
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("pragma synchronous = normal")


# Events written together: those Dagster batches that carry an asset entry and tags only
# (checks' planned evaluations and failures to materialize are written one by one, as Dagster does)
TOGETHER = frozenset(
    {
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_OBSERVATION,
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    }
)
# Dagster buffers a batch up to this many events before writing it
BATCH_SIZE_VARIABLE = "DAGSTER_EVENT_BATCH_SIZE"
BATCH_SIZE = "1000"
# The storage's methods `event_log_kept_open` stands in for while the run goes on
_PATCHED = ("_connect", "has_table", "_has_asset_key_col_on_connection", "store_event_batch")


def _kept_engine(storage: SqliteEventLogStorage, shard: str) -> Engine:
    engine = create_engine(
        storage.conn_string_for_shard(shard),
        poolclass=StaticPool,
        # one connection, used by whichever thread holds the storage's lock
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    event.listen(engine, "connect", _synchronous_normal)
    return engine


@contextmanager
def event_log_kept_open(instance: dg.DagsterInstance, run_id: str) -> Iterator[None]:
    """Serve the run's event-log shards (its own and the index) from open connections."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        yield
        return
    # Create and initialize both files now, as the run's first event would.
    with storage.run_connection(run_id):
        pass
    with storage.index_connection():
        pass
    engines = {shard: _kept_engine(storage, shard) for shard in (INDEX_SHARD_NAME, run_id)}
    dagsters_connect = storage._connect

    @contextmanager
    def connect(shard: str) -> Iterator[Connection]:
        engine = engines.get(shard)
        if engine is None:
            with dagsters_connect(shard) as conn:
                yield conn
            return
        with storage._db_lock, engine.connect() as conn, conn.begin():
            yield conn

    # Dagster asks whether a table exists on every materialization and check (a new engine and
    # connection each time, about 1.4 s of a demo build); no table appears or goes mid-run.
    known: dict[str, bool] = {}
    dagsters_has_table = storage.has_table

    def has_table(table_name: str) -> bool:
        if table_name not in known:  # (called with the storage's lock held or not)
            known[table_name] = dagsters_has_table(table_name)
        return known[table_name]

    # and, on every asset event, whether the asset-key table has a column (SQLAlchemy's inspector
    # over the open connection, 0.1-0.2 s of a demo build); no column appears mid-run either
    columns: dict[str, bool] = {}
    dagsters_has_column = storage._has_asset_key_col_on_connection

    def has_column(conn: Connection, column_name: str) -> bool:
        if column_name not in columns:
            columns[column_name] = dagsters_has_column(conn, column_name)
        return columns[column_name]

    def store_together(events: Sequence[EventLogEntry]) -> None:
        """Write a run of batched asset events: the index's transaction is committed last, so
        a failure before it leaves neither shard written."""
        rows = [storage._event_to_row(entry) for entry in events]
        index, run = engines[INDEX_SHARD_NAME], engines[run_id]
        with storage._db_lock, index.connect() as conn, conn.begin():
            inserted = conn.execute(
                SqlEventLogStorageTable.insert().returning(
                    SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
                ),
                rows,
            )
            ids = [row[0] for row in inserted]
            storage._store_asset_event_tags(conn, events, ids)
            last = {
                (entry.get_dagster_event().asset_key, entry.dagster_event_type): (entry, event_id)
                for entry, event_id in zip(events, ids, strict=True)
            }
            for entry, event_id in sorted(last.values(), key=lambda kept: kept[1]):
                storage._store_asset_event(conn, entry, event_id)
            with run.connect() as run_conn, run_conn.begin():
                run_conn.execute(SqlEventLogStorageTable.insert(), rows)

    def store_event_batch(events: Sequence[EventLogEntry]) -> None:
        """A batch, in order: runs of asset events together, anything else as Dagster does.
        Should a run of them fail, it and the rest are written one event at a time here:
        Dagster's own fallback would write again the events already written."""
        this_run = {entry.run_id for entry in events} == {run_id}
        written = 0
        try:
            for together, group in itertools.groupby(
                events, key=lambda entry: this_run and entry.dagster_event_type in TOGETHER
            ):
                chunk = list(group)
                if together and len(chunk) > 1:
                    store_together(chunk)
                    written += len(chunk)
                else:
                    for entry in chunk:
                        storage.store_event(entry)
                        written += 1
        except Exception as error:  # (a failed run of them left nothing written)
            sys.stderr.write(f"writing a batch of events failed ({error}); one at a time\n")
            for entry in events[written:]:
                storage.store_event(entry)

    def write_what_is_buffered() -> None:
        """Batches Dagster began and did not end (a step stopped between its materializations):
        written, as they would have been one at a time."""
        buffered = getattr(instance, "_event_buffer", {})
        for batch_id in list(buffered):
            for entry in buffered.pop(batch_id):
                storage.store_event(entry)

    storage._connect = connect  # type: ignore[method-assign]
    storage.has_table = has_table  # type: ignore[method-assign]
    storage._has_asset_key_col_on_connection = has_column  # type: ignore[method-assign]
    # (RETURNING, which the index's insert needs for the events' ids, came with SQLite 3.35)
    batches = sqlite3.sqlite_version_info >= (3, 35)
    batch_size = os.environ.get(BATCH_SIZE_VARIABLE)
    if batches:
        storage.store_event_batch = store_event_batch  # type: ignore[method-assign]
        os.environ[BATCH_SIZE_VARIABLE] = BATCH_SIZE
    try:
        yield
    finally:
        try:
            if batches:
                if batch_size is None:
                    os.environ.pop(BATCH_SIZE_VARIABLE, None)
                else:
                    os.environ[BATCH_SIZE_VARIABLE] = batch_size
                write_what_is_buffered()
        finally:
            for name in _PATCHED:
                storage.__dict__.pop(name, None)  # Dagster's methods again
            for engine in engines.values():
                engine.dispose()
