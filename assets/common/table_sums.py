"""Order-independent content checksums of the warehouse's tables, kept per month.

A table's checksum is the sum of a hash of each of its rows (volatile columns left out), so it
adds up: the checksum of a table partitioned by month is the sum of its months' checksums.
`audit.checksum_parts` keeps each month's sum, and publication hashes only the months that are
not there: the months a run rewrote (every writer of a partitioned table calls `forget` for
them before writing), and any month whose row count is not the one kept. What publication
records is the same figure a pass over every row gives (`full_checksums`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from assets.common import sql
from assets.common.warehouse import table_exists

CHECKSUMMED_LAYERS = ("raw", "staging", "core", "marts", "quarantine")
# Columns that record when something happened, not what the data is: left out of checksums.
VOLATILE_COLUMNS = (
    "loaded_at",
    "received_at",
    "quarantined_at",
    "logged_at",
    "published_at",
    "detected_at",
    "rejected_at",
    "run_id",
)
# The month column of an ingested table partitioned by month ('YYYY-MM', see assets/common/ingest)
PARTITION_COLUMN = "partition_month"
_NULL_PART = ""  # rows whose month column is null: a part of their own


@dataclass(frozen=True)
class Part:
    """The rows and checksum of one month of a table partitioned by month."""

    table: str
    part: str
    row_count: int
    checksum: int
    signature: str


def checksummed_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every table of the checksummed layers, as (schema, table), in order."""
    return [
        (str(schema), str(table))
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in (select unnest($layers)) order by 1, 2",
            {"layers": list(CHECKSUMMED_LAYERS)},
        ).fetchall()
    ]


def _columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Each checksummed table's (column, type) pairs that a checksum covers, in column order."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, name, kind in con.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where schema_name in (select unnest($layers)) "
        "and column_name not in (select unnest($volatile)) "
        "order by schema_name, table_name, column_index",
        {"layers": list(CHECKSUMMED_LAYERS), "volatile": list(VOLATILE_COLUMNS)},
    ).fetchall():
        found.setdefault((str(schema), str(table)), []).append((str(name), str(kind)))
    return found


def _row_hash(columns: list[tuple[str, str]]) -> str:
    return f"hash(row({', '.join(sql.quote_ident(name) for name, _ in columns)}))::hugeint"


def month_column(schema: str, table: str, columns: list[tuple[str, str]]) -> str | None:
    """The column a table is partitioned by month on, if it is: an ingested table's
    `partition_month`, or the column its SQL file's header names."""
    names = {name for name, _ in columns}
    if PARTITION_COLUMN in names:
        return PARTITION_COLUMN
    if sql.has_file(schema, table):
        column = sql.month_column(schema, table)
        if column in names:
            return column
    return None


def _part_of(column: str, columns: list[tuple[str, str]]) -> str:
    """The expression giving a row's month, 'YYYY-MM' ('' for a null month)."""
    kind = dict(columns)[column]
    name = sql.quote_ident(column)
    month = name if kind == "VARCHAR" else f"strftime({name}, '%Y-%m')"
    return f"coalesce({month}, '')"


def _counts(
    con: duckdb.DuckDBPyConnection, target: str, column: str, columns: list[tuple[str, str]]
) -> dict[str, int]:
    """Rows per month: counted by the column's values first (a few thousand dates), then
    by month, so that no row's month is formatted (at 10M rows, 0.15 s -> 0.04 s)."""
    name = sql.quote_ident(column)
    return {
        str(part): int(rows)
        for part, rows in con.execute(
            f"select {_part_of(column, columns)}, sum(n) from "  # noqa: S608
            f"(select {name}, count(*) as n from {target} group by all) group by all"
        ).fetchall()
    }


def _signature(columns: list[tuple[str, str]], column: str) -> str:
    """What a kept sum is only valid for: the columns, their types, the month column, and the
    DuckDB version (whose `hash` makes the sums)."""
    described = repr((duckdb.__version__, column, columns)).encode()
    return hashlib.sha256(described).hexdigest()


def _kept(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Part]]:
    if not table_exists(con, "audit", "checksum_parts"):
        return {}
    kept: dict[str, dict[str, Part]] = {}
    for table, part, row_count, checksum, signature in con.execute(
        "select table_name, part, row_count, checksum, signature from audit.checksum_parts"
    ).fetchall():
        kept.setdefault(table, {})[part] = Part(table, part, row_count, int(checksum), signature)
    return kept


def _months_where(column: str, kind: str, parts: list[str]) -> tuple[str, dict[str, Any]]:
    """A filter selecting the rows of some months ('YYYY-MM'), with a range DuckDB pushes down."""
    if kind != "VARCHAR":
        return sql.month_filter(column, parts)
    name = sql.quote_ident(column)
    where = f"where {name} between $first and $last and list_contains($parts, {name})"
    return where, {"parts": parts, "first": min(parts), "last": max(parts)}


def checksums(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, dict[str, Any]], list[Part]]:
    """Row count and checksum of every checksummed table, and the month sums to keep.

    A table partitioned by month is hashed only in its months that `audit.checksum_parts` does
    not hold with the same columns and row count; the others' sums are added as kept.
    """
    kept, described = _kept(con), _columns(con)
    result: dict[str, dict[str, Any]] = {}
    parts: list[Part] = []
    for schema, table in checksummed_tables(con):
        name, target = f"{schema}.{table}", sql.table_ref(schema, table)
        columns = described.get((schema, table), [])
        hashed = _row_hash(columns)
        column = month_column(schema, table, columns)
        if column is None:
            row = con.execute(
                f"select count(*), coalesce(sum({hashed}), 0) from {target}"  # noqa: S608
            ).fetchall()[0]
            result[name] = {"rows": int(row[0]), "checksum": str(row[1])}
            continue
        part_of, signature = _part_of(column, columns), _signature(columns, column)
        counts = _counts(con, target, column, columns)
        found = {
            part: kept_part
            for part, kept_part in kept.get(name, {}).items()
            if kept_part.signature == signature and counts.get(part) == kept_part.row_count
        }
        stale = sorted(set(counts) - set(found))
        if stale:
            where, bounds = "", dict[str, Any]()
            if _NULL_PART not in stale and len(stale) < len(counts):
                where, bounds = _months_where(column, dict(columns)[column], stale)
            for part, row_count, checksum in con.execute(
                f"select {part_of}, count(*), sum({hashed}) from {target} {where} group by all",  # noqa: S608
                bounds,
            ).fetchall():
                found[part] = Part(name, part, int(row_count), int(checksum), signature)
        table_parts = [found[part] for part in sorted(found)]
        parts += table_parts
        result[name] = {
            "rows": sum(p.row_count for p in table_parts),
            "checksum": str(sum(p.checksum for p in table_parts)),
        }
    return result, parts


def full_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Row count and checksum of every checksummed table, from a pass over every row."""
    result: dict[str, dict[str, Any]] = {}
    described = _columns(con)
    for schema, table in checksummed_tables(con):
        hashed = _row_hash(described.get((schema, table), []))
        rows, digest = con.execute(
            f"select count(*), coalesce(sum({hashed}), 0) from {sql.table_ref(schema, table)}"  # noqa: S608
        ).fetchall()[0]
        result[f"{schema}.{table}"] = {"rows": int(rows), "checksum": str(digest)}
    return result


def keep(con: duckdb.DuckDBPyConnection, parts: list[Part]) -> None:
    """Replace `audit.checksum_parts` with the month sums publication just made or used."""
    con.execute(sql.load("audit", "checksum_parts"))
    if not parts:
        con.execute("delete from audit.checksum_parts")
        return
    con.execute("begin transaction")
    try:
        con.execute("delete from audit.checksum_parts")
        con.execute(
            "insert into audit.checksum_parts select unnest($tables), unnest($parts), "
            "unnest($rows), unnest($sums)::hugeint, unnest($signatures)",
            {
                "tables": [p.table for p in parts],
                "parts": [p.part for p in parts],
                "rows": [p.row_count for p in parts],
                "sums": [str(p.checksum) for p in parts],
                "signatures": [p.signature for p in parts],
            },
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def forget(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, months: Sequence[str] | None
) -> None:
    """Take the kept sums of the months ('YYYY-MM') a writer is about to rewrite, or of the
    whole table (None), out of `audit.checksum_parts`. Called before the write, in its
    transaction where it has one: a run that stops between the two leaves a month to hash
    again, never a sum of rows that are gone."""
    if not table_exists(con, "audit", "checksum_parts"):
        return
    name = f"{schema}.{table}"
    if months is None:
        con.execute("delete from audit.checksum_parts where table_name = $t", {"t": name})
        return
    con.execute(
        "delete from audit.checksum_parts where table_name = $t "
        "and part in (select unnest($months))",
        {"t": name, "months": list(months)},
    )
