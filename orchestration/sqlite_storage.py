"""Dagster's local SQLite event log, kept open for the length of a run.

Dagster's SQLite event log opens a connection per event and closes it again (SQLAlchemy's
`NullPool`). Closing the last connection to a WAL database checkpoints it, an fsync of the
database file, and each commit fsyncs the log (`synchronous=FULL`): about 7 ms an event here,
and a demo build writes some 1,500 events (materializations and plans per month partition,
checks, step events), most of them twice (the run's shard and the cross-run index). Holding one
idle connection to each shard while the run writes, with `synchronous=NORMAL` (what SQLite
recommends with WAL: a power cut may lose the last events, never corrupt the file), brings an
event to about 0.5 ms.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from typing import Any

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("pragma synchronous = normal")


@contextmanager
def event_log_kept_open(instance: dg.DagsterInstance, run_id: str) -> Iterator[None]:
    """Hold the run's event-log shards (its own and the index) open until the block ends."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        yield
        return
    # Create and initialize both files now, as the run's first event would (one at a time:
    # each connection holds the storage's lock).
    with storage.run_connection(run_id):
        pass
    with storage.index_connection():
        pass
    event.listen(Engine, "connect", _synchronous_normal)
    try:
        with ExitStack() as stack:
            for shard in (INDEX_SHARD_NAME, run_id):
                path = storage.path_for_shard(shard)
                stack.enter_context(closing(sqlite3.connect(path, timeout=30)))
            yield
    finally:
        event.remove(Engine, "connect", _synchronous_normal)
