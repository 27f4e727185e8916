"""`chokepoint query SQL` and `chokepoint export MART`: read the published warehouse.

The connection is read-only, so the SQL given runs as written and cannot change anything. Output
as a table (the terminal), CSV, JSON (an array of records) or Parquet (to `--out` only). CSV is
for people's spreadsheets, so text cells a spreadsheet would run as a formula are neutralized
(`assets.common.safe_output`); JSON and Parquet keep values exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from assets.common.safe_output import neutralize_frame
from assets.common.sql import quote_ident
from orchestration.commands import BadInput, add_command
from orchestration.commands.published import current_settings, published

FORMATS = ("table", "csv", "json", "parquet")


def add_to(commands: Any) -> None:
    query = add_command(
        commands,
        "query",
        "run one SQL statement on the published warehouse (read-only) and print the result",
        'Example: chokepoint query "select * from marts.flagged_shipments limit 5" --format csv\n'
        "Exit codes: 0 done, 1 no published warehouse, 2 SQL that does not run or a bad option.",
    )
    query.add_argument("sql", help="the SQL to run, as one argument")
    _output_options(query, default="table")
    query.set_defaults(run=run_query)

    export = add_command(
        commands,
        "export",
        "write one mart (marts.<MART>) as CSV, JSON, Parquet or a table",
        "Example: chokepoint export flagged_shipments --format parquet --out flagged.parquet",
    )
    export.add_argument("mart", help="the mart's name, e.g. flagged_shipments")
    _output_options(export, default="csv")
    export.set_defaults(run=run_export)


def _output_options(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--format", choices=FORMATS, default=default, help=f"default {default}")
    parser.add_argument("--out", type=Path, help="write to this file instead of the terminal")


def run_query(args: argparse.Namespace) -> int:
    _check_output(args)
    with published(current_settings()) as con:
        frame = result(con, args.sql)
    write(frame, args.format, args.out)
    return 0


def run_export(args: argparse.Namespace) -> int:
    _check_output(args)
    with published(current_settings()) as con:
        marts = [
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        name = args.mart.removeprefix("marts.")
        if name not in marts:
            raise BadInput(f"no mart {args.mart!r}; the marts are: {', '.join(marts)}")
        frame = con.sql(f"select * from marts.{quote_ident(name)}").pl()  # noqa: S608
    write(frame, args.format, args.out)
    return 0


def _check_output(args: argparse.Namespace) -> None:
    if args.format == "parquet" and args.out is None:
        raise BadInput("--format parquet writes a file: give --out FILE")


def result(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    """The query's rows; BadInput (exit 2) when DuckDB refuses the SQL."""
    try:
        relation = con.sql(sql)
    except duckdb.Error as error:
        raise BadInput(" ".join(str(error).split())) from None
    if relation is None:
        raise BadInput("the statement returned no rows (only queries print a result)")
    return relation.pl()


def write(frame: pl.DataFrame, fmt: str, out: Path | None) -> None:
    """Print or write `frame` in the format asked for."""
    if fmt == "parquet":
        assert out is not None
        frame.write_parquet(out)
    elif fmt == "csv":
        text = neutralize_frame(flattened(frame)).write_csv()
        _emit(text, out)
    elif fmt == "json":
        _emit(frame.write_json() + "\n", out)
    else:
        with pl.Config(
            tbl_rows=-1 if out else 50,
            tbl_cols=-1,
            fmt_str_lengths=60,
            tbl_width_chars=1000,
            tbl_hide_dataframe_shape=False,
        ):
            _emit(f"{frame}\n", out)
    if out is not None:
        print(f"{frame.height} row(s) written to {out}", file=sys.stderr)


def flattened(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with list and struct columns as JSON text: CSV has no nested values."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.Series(
            name,
            [None if v is None else json.dumps(v, default=str) for v in frame[name].to_list()],
            dtype=pl.String,
        )
        for name in nested
    )


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
