"""The DuckDB warehouse: a private build file the pipeline writes, and a published copy for readers.

DuckDB lets only one process open a file while a writer holds it, and a reader's connection
blocks the writer. So the pipeline writes `*.build.duckdb`, and publishing copies that file and
atomically renames the copy over the published one. Readers open the published file read-only at
any time; a reader that is already open keeps the snapshot it opened.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.common.sql import LAYERS, quote_ident, table_ref

# Analysts on DuckDB 1.5 clients can still open what we publish.
_STORAGE_COMPAT = "v1.5.0"

_STEP_LOG_DDL = """
create table if not exists audit.step_log (
    run_id varchar,
    asset_key varchar,
    partition_key varchar,
    rows_received bigint,
    rows_written bigint,
    rows_quarantined bigint,
    logged_at timestamp with time zone
)
"""


class Warehouse(dg.ConfigurableResource):  # type: ignore[misc]
    """DuckDB warehouse with a private build file and an atomically published copy."""

    build_path: str
    published_path: str
    # DuckDB spills to disk beyond this; its default (80% of RAM) lets joins take the machine.
    memory_limit: str = "3GB"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the build database with every layer's schema present."""
        path = Path(self.build_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(
            str(path),
            config={
                "storage_compatibility_version": _STORAGE_COMPAT,
                "memory_limit": self.memory_limit,
                "temp_directory": str(path.parent / "duckdb_tmp"),
                "preserve_insertion_order": False,
                # Checkpoint when the connection closes, not every 16 MB of WAL mid-step.
                "checkpoint_threshold": "1GB",
            },
        )
        try:
            for layer in LAYERS:
                con.execute(f"create schema if not exists {quote_ident(layer)}")
            con.execute(_STEP_LOG_DDL)
            yield con
            con.execute("checkpoint")
        finally:
            con.close()

    def publish(self) -> Path:
        """Copy the closed build file and rename the copy over the published warehouse."""
        build, published = Path(self.build_path), Path(self.published_path)
        published.parent.mkdir(parents=True, exist_ok=True)
        staging_copy = published.with_name(published.name + ".publishing")
        shutil.copyfile(build, staging_copy)
        with open(staging_copy, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staging_copy, published)
        return published


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
