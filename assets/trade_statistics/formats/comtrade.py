"""UN Comtrade CSV (new API layout, 47 columns) into the normalized trade frame.

Quirks handled: cp1252 text ("Türkiye" is byte 0xFC); rows carry one trailing empty field
more than the header; Taiwan is reporter/partner 490 "Other Asia, nes" (ISO field "S19");
some Comtrade reporter codes differ from ISO numeric (251 France, 842 USA), so countries are
taken from the ISO alpha-3 field; each reporter's HS edition (H1..H6) is kept in `hs_edition`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from assets.trade_statistics.formats import TradeFormatError
from assets.trade_statistics.formats._common import (
    WORLD,
    Period,
    Row,
    alpha3_to_iso2,
    as_float,
    check_width,
    column_index,
    country_iso2,
    decode,
    hs6_of,
    month_period,
    parse_decimal,
    read_csv,
    to_frame,
    year_period,
)

FORMAT = "comtrade"
PARSER_VERSION = "comtrade/1"

# UTF-8 first: a cp1252 file with any accented letter is not valid UTF-8, so it falls through
# to cp1252, while a file saved as UTF-8 is not turned into mojibake.
ENCODINGS = ("utf-8", "cp1252")

REQUIRED = (
    "freqCode",
    "period",
    "reporterCode",
    "reporterISO",
    "reporterDesc",
    "flowCode",
    "partnerCode",
    "partnerISO",
    "partnerDesc",
    "classificationCode",
    "cmdCode",
    "primaryValue",
    "netWgt",
)
# Breakdown columns: only their "total" value fits the normalized grain.
TOTALS = {"partner2Code": ("0",), "customsCode": ("C00",), "motCode": ("0",)}

FLOWS = {"X": "X", "M": "M", "RX": "RX", "RM": "RM"}

TAIWAN_CODE, TAIWAN_ISO = "490", "S19"
# Comtrade area codes kept as aggregates: code -> (normalized code, ISO field).
AGGREGATES = {"0": (WORLD, "W00"), "97": ("EU", "EUR")}

_HS_EDITION = re.compile(r"H[0-9]")


@lru_cache(maxsize=4096)
def _area(code: str, iso3: str, label: str) -> tuple[str | None, bool]:
    """(ISO alpha-2 or aggregate code, is_aggregate) for a Comtrade reporter or partner."""
    code, iso3 = code.strip(), iso3.strip().upper()
    if code == TAIWAN_CODE or iso3 == TAIWAN_ISO:
        return "TW", False
    for aggregate_code, (normalized, aggregate_iso) in AGGREGATES.items():
        if code == aggregate_code or iso3 == aggregate_iso:
            return normalized, True
    return alpha3_to_iso2(iso3) or country_iso2(label), False


def _period(freq: str, text: str, number: int) -> Period:
    value = text.strip()
    if freq == "A" and re.fullmatch(r"\d{4}", value):
        return year_period(int(value))
    if freq == "M" and re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", value):
        return month_period(int(value[:4]), int(value[4:]))
    raise TradeFormatError(
        f"{FORMAT}: row {number}: period {text!r} does not fit freqCode {freq!r}"
    )


def parse(data: bytes) -> pl.DataFrame:
    """Normalized frame for a Comtrade CSV download (one row per input record)."""
    header, records = read_csv(decode(data, fmt=FORMAT, encodings=ENCODINGS), fmt=FORMAT)
    col = column_index(header, REQUIRED, TOTALS, fmt=FORMAT)
    rows = []
    for number, record in records:
        check_width(record, len(header), number, fmt=FORMAT)

        def get(name: str, record: list[str] = record) -> str:
            return record[col[name]].strip()

        for name, totals in TOTALS.items():
            if name in col and get(name) not in (*totals, ""):
                raise TradeFormatError(
                    f"{FORMAT}: row {number}: {name}={get(name)!r} is a breakdown row; "
                    f"only totals ({totals[0]}) fit one row per reporter, partner, flow, period"
                )
        flow = FLOWS.get(get("flowCode"))
        if flow is None:
            raise TradeFormatError(
                f"{FORMAT}: row {number}: unsupported flowCode {get('flowCode')!r}"
            )
        period = _period(get("freqCode"), get("period"), number)
        reporter, reporter_aggregate = _area(
            get("reporterCode"), get("reporterISO"), get("reporterDesc")
        )
        partner, partner_aggregate = _area(
            get("partnerCode"), get("partnerISO"), get("partnerDesc")
        )
        classification = get("classificationCode").upper()
        is_hs = classification == "HS" or bool(_HS_EDITION.fullmatch(classification))
        product_code = get("cmdCode")
        value = parse_decimal(get("primaryValue"), column="primaryValue", number=number, fmt=FORMAT)
        weight = parse_decimal(get("netWgt"), column="netWgt", number=number, fmt=FORMAT)
        rows.append(
            Row(
                reporter_country=reporter,
                reporter_label=get("reporterDesc") or None,
                reporter_is_aggregate=reporter_aggregate,
                partner_country=partner,
                partner_label=get("partnerDesc") or None,
                partner_is_aggregate=partner_aggregate,
                flow=flow,
                period_start=period.start,
                period_end=period.end,
                period_granularity=period.granularity,
                product_code=product_code,
                hs6=hs6_of(product_code) if is_hs else None,
                hs_edition=classification if _HS_EDITION.fullmatch(classification) else None,
                value_usd=as_float(value),
                value_eur=None,
                net_weight_kg=as_float(weight),
                source_row_number=number,
            )
        )
    return to_frame(rows)
