"""core.published_trade_hs2022: published figures put in HS 2022 terms through the concordance."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl
from conftest import shared_file

from assets.common import sql
from assets.common.paths import REFERENCE_DIR
from assets.trade_statistics.formats import parser_for
from assets.trade_statistics.formats._common import SCHEMA


def _convert(published: pl.DataFrame) -> list[dict[str, Any]]:
    """Build the core table over `published` (parser output) and the bundled concordance."""
    con = duckdb.connect()
    for layer in ("staging", "core"):
        con.execute(f"create schema {layer}")
    con.execute(
        "create table staging.hs_concordance as select * from read_csv($path, all_varchar = true)",
        {"path": str(REFERENCE_DIR / "hs/hs2017_hs2022_concordance.csv")},
    )
    frame = published.with_columns(
        pl.lit("taiwan_customs").alias("format"),
        pl.lit("test.csv").alias("source_file"),
    )
    con.register("_published", frame.to_arrow())
    con.execute("create table staging.published_trade_statistics as select * from _published")
    sql.create_table_from_file(con, "core", "published_trade_hs2022")
    cursor = con.execute("select * from core.published_trade_hs2022 order by source_row_number")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _row(number: int, period: date, hs6: str | None, edition: str | None) -> dict[str, object]:
    return {
        "reporter_country": "TW",
        "reporter_label": "Taiwan",
        "reporter_is_aggregate": False,
        "partner_country": "RU",
        "partner_label": "Russia",
        "partner_is_aggregate": False,
        "flow": "X",
        "period_start": period,
        "period_end": period,
        "period_granularity": "month",
        "product_code": hs6 or "8542",
        "hs6": hs6,
        "hs_edition": edition,
        "value_usd": 100.0 * number,
        "value_eur": None,
        "net_weight_kg": None,
        "source_row_number": number,
    }


def test_each_edition_is_converted_or_says_why_not() -> None:
    rows = [
        _row(1, date(2023, 5, 1), "854231", None),  # period in HS 2022
        _row(2, date(2020, 5, 1), "854231", None),  # period in HS 2017, unchanged code
        _row(3, date(2020, 5, 1), "880330", None),  # renumbered
        _row(4, date(2020, 5, 1), "854140", "H5"),  # split in HS 2022
        _row(5, date(2020, 5, 1), "010121", "H5"),  # not among the codes covered
        _row(6, date(2015, 5, 1), "854231", None),  # HS 2012: no concordance
        _row(7, date(2023, 5, 1), None, "H6"),  # heading-level figure
    ]
    out = _convert(pl.DataFrame(rows, schema=SCHEMA))
    got = [(r["hs_edition_used"], r["hs6_2022"], r["hs_conversion"]) for r in out]
    assert got == [
        ("HS2022", "854231", "already HS 2022"),
        ("HS2017", "854231", "converted from HS 2017"),
        ("HS2017", "880730", "converted from HS 2017"),
        ("HS2017", None, "split over 4 HS 2022 codes"),
        ("HS2017", None, "HS 2017 code not in the concordance"),
        ("HS2012", None, "no concordance from HS2012"),
        ("HS2022", None, "no HS-6 code"),
    ]
    assert [r["value_usd"] for r in out] == [100.0 * n for n in range(1, 8)]


def test_real_taiwan_extract_keeps_every_row_and_converts_2017_to_2021() -> None:
    path = shared_file("trade/taiwan-customs/taiwan_exports_8542_2013_2025.csv")
    parsed = parser_for("taiwan_customs")(path.read_bytes())
    out = _convert(parsed)
    assert len(out) == parsed.height
    assert sum(r["value_usd"] or 0 for r in out) == parsed["value_usd"].fill_null(0).sum()
    by_year: dict[int, set[object]] = {}
    for r in out:
        by_year.setdefault(r["period_start"].year, set()).add(r["hs_conversion"])
    assert all(by_year[y] == {"no concordance from HS2012"} for y in range(2013, 2017))
    assert all(by_year[y] == {"converted from HS 2017"} for y in range(2017, 2022))
    assert all(by_year[y] == {"already HS 2022"} for y in range(2022, 2026))
    converted = [r for r in out if r["hs_conversion"] == "converted from HS 2017"]
    # Heading 8542 did not change between the editions: every code converts to itself.
    assert converted and all(r["hs6_2022"] == r["hs6"] for r in converted)
