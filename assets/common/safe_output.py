"""Cells for people's spreadsheets: text that a spreadsheet would run as a formula is neutralized.

A CSV cell or HTML table cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return
can be taken for a formula when opened in (or pasted into) a spreadsheet program, which may then
run it (OWASP "CSV injection"). Outputs meant for people prefix such cells with an apostrophe,
which spreadsheets read as "this is text". A value that is a plain number (`-3.5`, `+7`, `1e-3`)
cannot carry a formula and is left alone, so negative numbers stay numbers. The warehouse keeps
values as received; only the files written for people pass through here.
"""

from __future__ import annotations

import re

import polars as pl

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_risky(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula."""
    return text.startswith(FORMULA_TRIGGERS) and _PLAIN_NUMBER.fullmatch(text) is None


def neutralize(text: str) -> str:
    """`text` with a leading apostrophe when a spreadsheet could read it as a formula."""
    return "'" + text if is_risky(text) else text


def neutralize_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every string column neutralized; other columns (numbers, dates) unchanged."""
    return frame.with_columns(
        _neutralized(name) for name, dtype in frame.schema.items() if dtype == pl.String
    )


def _neutralized(name: str) -> pl.Expr:
    column = pl.col(name)
    risky = pl.any_horizontal(column.str.starts_with(t) for t in FORMULA_TRIGGERS)
    number = column.str.contains(f"^(?:{_PLAIN_NUMBER.pattern})$")
    return pl.when(risky & ~number).then(pl.lit("'") + column).otherwise(column).alias(name)
