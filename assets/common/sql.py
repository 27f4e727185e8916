"""SQL files under `sql/<layer>/<table>.sql`, one statement each, run with bound parameters."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import duckdb

from assets.common.paths import SQL_DIR

LAYERS = ("raw", "staging", "core", "marts", "quarantine", "audit")


@cache
def load(layer: str, table: str) -> str:
    """Return the statement in `sql/<layer>/<table>.sql` without its trailing semicolon."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    text = (SQL_DIR / layer / f"{table}.sql").read_text(encoding="utf-8")
    return text.strip().rstrip(";")


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
