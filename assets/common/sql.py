"""SQL files under `sql/<layer>/<table>.sql`, one statement each, run with bound parameters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any, TypeVar

import duckdb

from assets.common.paths import SQL_DIR

LAYERS = ("raw", "staging", "core", "marts", "quarantine", "audit")

_Month = TypeVar("_Month")


@cache
def load(layer: str, table: str) -> str:
    """Return the statement in `sql/<layer>/<table>.sql` without its trailing semicolon."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    text = (SQL_DIR / layer / f"{table}.sql").read_text(encoding="utf-8")
    return text.strip().rstrip(";")


def has_file(layer: str, table: str) -> bool:
    """Whether `sql/<layer>/<table>.sql` exists."""
    return layer in LAYERS and (SQL_DIR / layer / f"{table}.sql").is_file()


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote_ident(name: str) -> str:
    """Quote an identifier that comes from code (asset keys), never from data."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


def table_ref(layer: str, table: str) -> str:
    """`"layer"."table"` for a known layer and a plain table name.

    Table names are the only parts of a statement composed in code; every value is bound as a
    parameter. Statements built with this helper are marked `noqa: S608` for that reason.
    """
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    return f"{quote_ident(layer)}.{quote_ident(table)}"


def create_table_from_file(
    con: duckdb.DuckDBPyConnection,
    layer: str,
    table: str,
    params: dict[str, Any] | None = None,
) -> int:
    """(Re)create `layer.table` from its SQL file and return its row count."""
    target = table_ref(layer, table)
    con.execute(f"create or replace table {target} as {load(layer, table)}", params or {})
    rows = con.execute(f"select count(*) from {target}").fetchall()  # noqa: S608
    return int(rows[0][0])


_MONTH_PARTITION = re.compile(r"^-- Partitioned by month: ([a-z_][a-z0-9_]*)\b", re.MULTILINE)


_YEAR_SCOPE = re.compile(r"^-- Rebuilt by year: ([a-z_][a-z0-9_]*)\b", re.MULTILINE)


def year_column(layer: str, table: str) -> str | None:
    """The year column of a table that a monthly run rebuilds for its years only (header)."""
    match = _YEAR_SCOPE.search(load(layer, table))
    return match.group(1) if match else None


def year_filter(column: str, years: list[int]) -> tuple[str, dict[str, Any]]:
    """A `where` clause selecting the rows of `years` by an integer column, and its values.

    A scalar test (not an IN subquery, which is a join) so that DuckDB pushes it through the
    statement's windows and aggregates, partitioned by the year, down to their inputs.
    """
    name = quote_ident(column)
    where = f"where {name} between $first_year and $last_year and list_contains($years, {name})"
    return where, {"years": sorted(years), "first_year": min(years), "last_year": max(years)}


def month_column(layer: str, table: str) -> str | None:
    """The date column a SQL file's table is partitioned by month on (its header says so)."""
    match = _MONTH_PARTITION.search(load(layer, table))
    return match.group(1) if match else None


def month_after(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_batches(counts: Sequence[tuple[_Month, int]], budget: int) -> list[list[_Month]]:
    """Consecutive months, in order, grouped so that a group's rows stay within `budget`.

    `counts` is (month, rows) in month order; a month over the budget is a group of its own.
    """
    batches: list[list[_Month]] = []
    size = 0
    for month, rows in counts:
        if not batches or size + rows > budget:
            batches.append([])
            size = 0
        batches[-1].append(month)
        size += rows
    return batches


def month_filter(column: str, months: list[str]) -> tuple[str, dict[str, Any]]:
    """A `where` clause selecting the rows of `months` (YYYY-MM) by a date column, and its values.

    The range lets DuckDB push the filter down to its scans (an IN list alone is a join); the IN
    keeps it exact when the months are not consecutive.
    """
    starts = sorted(date.fromisoformat(f"{month}-01") for month in months)
    last = starts[-1]
    after = month_after(last)
    name = quote_ident(column)
    where = (
        f"where {name} >= $first and {name} < $after "
        f"and date_trunc('month', {name}) in (select unnest($months))"
    )
    return where, {"months": starts, "first": starts[0], "after": after}


def _selects_every_row(
    con: duckdb.DuckDBPyConnection, target: str, where: str, bounds: dict[str, Any]
) -> bool:
    """Whether `where` selects every row of `target` (counted: a table's count is metadata)."""
    counts = con.execute(
        f"select (select count(*) from {target}), (select count(*) from {target} {where})",  # noqa: S608
        bounds,
    ).fetchone()
    return counts is not None and counts[0] == counts[1]


def has_statement_columns(con: duckdb.DuckDBPyConnection, layer: str, table: str) -> bool:
    """Whether `layer.table` exists with the columns (names and types) its SQL file gives."""
    wanted = con.execute(f"describe {load(layer, table)}").fetchall()
    current = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = $layer and table_name = $table order by column_index",
        {"layer": layer, "table": table},
    ).fetchall()
    return current == [(row[0], row[1]) for row in wanted]


def replace_months_from_file(
    con: duckdb.DuckDBPyConnection,
    layer: str,
    table: str,
    column: str,
    months: list[str],
) -> int:
    """Replace the rows of `months` (YYYY-MM) in `layer.table` with what its SQL file gives.

    The file's statement is computed for those months only (the filter on `column` reaches its
    inputs); the other months' rows stay as they are. A table that does not exist yet, or whose
    columns differ from the statement's (the SQL changed), is rebuilt over every month instead.
    Returns the table's row count.
    """
    return replace_rows_from_file(con, layer, table, *month_filter(column, months))[0]


def replace_rows_from_file(
    con: duckdb.DuckDBPyConnection, layer: str, table: str, where: str, bounds: dict[str, Any]
) -> tuple[int, bool]:
    """Replace the rows of `layer.table` that `where` selects with those its SQL file gives.

    One transaction: readers of the build see the old rows or the new, never neither. A table
    that does not exist yet, or whose columns differ from the statement's, is rebuilt whole.
    When `where` selects every row the table holds (a list change runs over every month), the
    table is written anew, filtered the same way: the same rows, without deleting every row
    first (at 10M declarations, `core.shipments` 23.7 s by delete and insert, 15.8 s written
    anew). Returns the table's row count, and whether every row was written (not some).
    """
    target = table_ref(layer, table)
    statement = load(layer, table)
    whole = True
    if not has_statement_columns(con, layer, table):
        con.execute(f"create or replace table {target} as {statement}")
    elif _selects_every_row(con, target, where, bounds):
        con.execute(
            f"create or replace table {target} as select * from ({statement}) {where}",  # noqa: S608
            bounds,
        )
    else:
        whole = False
        con.execute("begin transaction")
        try:
            con.execute(f"delete from {target} {where}", bounds)  # noqa: S608
            con.execute(f"insert into {target} by name select * from ({statement}) {where}", bounds)  # noqa: S608
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    rows = con.execute(f"select count(*) from {target}").fetchall()  # noqa: S608
    return int(rows[0][0]), whole
