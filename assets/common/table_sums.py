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
    """The column a table is partitioned by month on, if it is: the DATE column its SQL
    file's header names, or an ingested table's `partition_month` ('YYYY-MM' text). Any other
    table, or a column of another type, is hashed whole."""
    kinds = dict(columns)
    header = sql.month_column(schema, table) if sql.has_file(schema, table) else None
    if header is not None:
        return header if kinds.get(header) == "DATE" else None
    return PARTITION_COLUMN if kinds.get(PARTITION_COLUMN) == "VARCHAR" else None


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
    """The kept month sums, when the file's latest publication made them.

    A publication by code that does not keep them (an older version, run after a rollback)
    may have rewritten months without taking their sums out: then none is trusted.
    """
    layout = con.execute(
        "select count(*) from duckdb_columns() where schema_name = 'audit' "
        "and table_name = 'checksum_parts' and column_name = 'run_id'"
    ).fetchall()
    if not layout[0][0] or not table_exists(con, "audit", "publications"):
        return {}  # none kept, or kept in an older layout (without the run): none trusted
    latest = con.execute(
        "select run_id from audit.publications order by published_at desc limit 1"
    ).fetchall()
    kept: dict[str, dict[str, Part]] = {}
    for table, part, row_count, checksum, signature in con.execute(
        "select table_name, part, row_count, checksum, signature from audit.checksum_parts "
        "where run_id = $run",
        {"run": latest[0][0] if latest else None},
    ).fetchall():
        kept.setdefault(table, {})[part] = Part(table, part, row_count, int(checksum), signature)
    return kept


def _months_where(column: str, kind: str, parts: list[str]) -> tuple[str, dict[str, Any]]:
    """A filter selecting the rows of some months ('YYYY-MM'), with a range DuckDB pushes down."""
    if parts == [_NULL_PART]:
        return f"where {sql.quote_ident(column)} is null", {}
    if kind != "VARCHAR":
        return sql.month_filter(column, parts)
    name = sql.quote_ident(column)
    where = f"where {name} between $first and $last and list_contains($parts, {name})"
    return where, {"parts": parts, "first": min(parts), "last": max(parts)}


@dataclass(frozen=True)
class Checksums:
    """Publication's checksums: per table, the month sums to keep, and the tables whose
    spot-checked kept month did not match its rows (hashed whole instead)."""

    tables: dict[str, dict[str, Any]]
    parts: list[Part]
    mismatched: list[str]


def checksums(con: duckdb.DuckDBPyConnection, spot: str | None = None) -> Checksums:
    """Row count and checksum of every checksummed table, and the month sums to keep.

    A table partitioned by month is hashed only in its months that `audit.checksum_parts` does
    not hold with the same columns and row count; the others' sums are added as kept. With
    `spot` (the run id), one kept month of each table, chosen by it, is hashed again: a sum
    that does not match its rows (a writer that did not take out what it rewrote) makes the
    whole table hashed again and the table reported.
    """
    kept, described = _kept(con), _columns(con)
    result: dict[str, dict[str, Any]] = {}
    parts: list[Part] = []
    mismatched: list[str] = []
    for schema, table in checksummed_tables(con):
        name, target = f"{schema}.{table}", sql.table_ref(schema, table)
        columns = described.get((schema, table), [])
        hashed = _row_hash(columns)
        column = month_column(schema, table, columns)
        if column is None:
            result[name] = _whole(con, target, hashed)
            continue
        part_of, signature = _part_of(column, columns), _signature(columns, column)
        kind = dict(columns)[column]
        counts = _counts(con, target, column, columns)
        found = {
            part: kept_part
            for part, kept_part in kept.get(name, {}).items()
            if kept_part.signature == signature and counts.get(part) == kept_part.row_count
        }
        if spot is not None and found:
            chosen = sorted(found)[_pick(spot, name, len(found))]
            if _hash_months(con, target, column, kind, part_of, hashed, [chosen]) != {
                chosen: (found[chosen].row_count, found[chosen].checksum)
            }:
                mismatched.append(name)
                found = {}
        stale = sorted(set(counts) - set(found))
        if stale:
            months = None if len(stale) == len(counts) else stale
            for part, (row_count, checksum) in _hash_months(
                con, target, column, kind, part_of, hashed, months
            ).items():
                found[part] = Part(name, part, row_count, checksum, signature)
        table_parts = [found[part] for part in sorted(found)]
        parts += table_parts
        result[name] = {
            "rows": sum(p.row_count for p in table_parts),
            "checksum": str(sum(p.checksum for p in table_parts)),
        }
    return Checksums(result, parts, mismatched)


def _whole(con: duckdb.DuckDBPyConnection, target: str, hashed: str) -> dict[str, Any]:
    """Row count and checksum of a whole table, from a pass over every row."""
    rows, digest = con.execute(
        f"select count(*), coalesce(sum({hashed}), 0) from {target}"  # noqa: S608
    ).fetchall()[0]
    return {"rows": int(rows), "checksum": str(digest)}


def _pick(spot: str, table: str, count: int) -> int:
    """Which of `count` kept months a run spot-checks: a different one from run to run."""
    return int(hashlib.sha256(f"{spot}|{table}".encode()).hexdigest(), 16) % count


def _hash_months(
    con: duckdb.DuckDBPyConnection,
    target: str,
    column: str,
    kind: str,
    part_of: str,
    hashed: str,
    months: list[str] | None,
) -> dict[str, tuple[int, int]]:
    """(rows, sum of row hashes) of each month of `months` in the table (None: every month)."""
    where, bounds = "", dict[str, Any]()
    if months is not None and (_NULL_PART not in months or months == [_NULL_PART]):
        where, bounds = _months_where(column, kind, months)
    found = {
        str(part): (int(row_count), int(checksum))
        for part, row_count, checksum in con.execute(
            f"select {part_of}, count(*), sum({hashed}) from {target} {where} group by all",  # noqa: S608
            bounds,
        ).fetchall()
    }
    return found if months is None else {m: found[m] for m in months if m in found}


def full_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Row count and checksum of every checksummed table, from a pass over every row."""
    result: dict[str, dict[str, Any]] = {}
    described = _columns(con)
    for schema, table in checksummed_tables(con):
        hashed = _row_hash(described.get((schema, table), []))
        result[f"{schema}.{table}"] = _whole(con, sql.table_ref(schema, table), hashed)
    return result


def keep(con: duckdb.DuckDBPyConnection, parts: list[Part], run_id: str) -> None:
    """Replace `audit.checksum_parts` with the month sums publication `run_id` made or used."""
    con.execute("begin transaction")
    try:
        con.execute("drop table if exists audit.checksum_parts")
        con.execute(sql.load("audit", "checksum_parts"))
        if parts:
            con.execute(
                "insert into audit.checksum_parts select unnest($tables), unnest($parts), "
                "unnest($rows), unnest($sums)::hugeint, unnest($signatures), $run",
                {
                    "tables": [p.table for p in parts],
                    "parts": [p.part for p in parts],
                    "rows": [p.row_count for p in parts],
                    "sums": [str(p.checksum) for p in parts],
                    "signatures": [p.signature for p in parts],
                    "run": run_id,
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
