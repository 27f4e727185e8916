"""Parsers for published trade-statistics files into one normalized frame.

Each format module (`comtrade`, `taiwan_customs`, `eurostat_comext`) exposes `FORMAT`,
`PARSER_VERSION` and `parse(data: bytes) -> polars.DataFrame`; the columns are listed in
`_common.COLUMNS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("comtrade", "taiwan_customs", "eurostat_comext")
# Where published files land: `<LANDING>/<format>/<any name>.csv`.
LANDING = "trade_statistics_published"


class TradeFormatError(ValueError):
    """The bytes are not the layout the parser was written for (header, encoding or a value)."""


def parser_for(format_name: str) -> Callable[[bytes], pl.DataFrame]:
    """The `parse` function of one format module, by its `FORMAT` name."""
    if format_name not in FORMATS:
        raise KeyError(f"unknown trade format {format_name!r}; known: {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{format_name}")
    parse: Callable[[bytes], pl.DataFrame] = module.parse
    return parse
