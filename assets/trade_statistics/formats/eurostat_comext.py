"""Eurostat Comext "Relational View" CSV into the normalized trade frame.

Columns REPORTER, PARTNER, PRODUCT, FLOW, STAT_PROCEDURE, PERIOD, VALUE_IN_EUR, either as
labels ("Aug. 2024", "EXPORT", "Total") or in the code-label variant ("202408-Aug. 2024",
"2-EXPORT", "TOTAL-Total"). Values are in euros: they go to `value_eur`, and `value_usd` stays
null (no exchange rate is applied). REPORTER mixes member states with EU and euro-area
aggregates whose labels carry long country lists in parentheses; those rows are kept, coded
EU27, EA20, EU (changing composition) or EA, and marked `reporter_is_aggregate`.
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
    alpha2_code,
    as_float,
    check_width,
    column_index,
    country_iso2,
    decode,
    hs6_of,
    month_period,
    normalize_text,
    parse_decimal,
    read_csv,
    to_frame,
    year_period,
)

FORMAT = "eurostat_comext"
PARSER_VERSION = "eurostat_comext/1"

ENCODINGS = ("utf-8",)
REQUIRED = ("REPORTER", "PARTNER", "PRODUCT", "FLOW", "PERIOD", "VALUE_IN_EUR")
STAT_PROCEDURE = "STAT_PROCEDURE"
QUANTITY = "QUANTITY_IN_100KG"
KG_PER_QUANTITY_UNIT = 100

FLOWS = {"1": "M", "IMPORT": "M", "2": "X", "EXPORT": "X"}
TOTAL_PROCEDURES = {"T", "TOTAL"}

MONTHS = {
    "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUNE": 6, "JUL": 7, "JULY": 7,
    "AUG": 8, "SEP": 9, "SEPT": 9, "OCT": 10, "NOV": 11, "DEC": 12,
}  # fmt: skip
# Eurostat geo codes that are not ISO alpha-2.
GEO_CODES = {"EL": "GR", "UK": "GB"}

_CODE_LABEL = re.compile(r"(?P<code>[A-Z0-9][A-Z0-9_]*)-(?P<label>\S.*)")
_MONTH_LABEL = re.compile(r"(?P<month>[A-Za-z]{3,4})\.? (?P<year>\d{4})")
_ANNUAL_LABEL = re.compile(r"(?:Jan\.?-Dec\.? )?(?P<year>\d{4})")
_AGGREGATE_CODE = re.compile(r"(?P<kind>EU|EA)(?P<size>\d{2})?(?:_\d{4})?")
_AGGREGATE_LABEL = re.compile(
    r"(?P<kind>European Union|Euro area)(?: - (?P<size>\d+) countries)?(?: \(.*\))?",
    re.IGNORECASE,
)
_EXTRA_INTRA = re.compile(r"(?P<kind>Extra|Intra)-EU ?(?P<size>\d{2})?\b.*", re.IGNORECASE)


@lru_cache(maxsize=4096)
def split_code_label(text: str) -> tuple[str | None, str]:
    """("202408", "Aug. 2024") for the code-label variant; (None, text) for a plain label."""
    value = normalize_text(text)
    match = _CODE_LABEL.fullmatch(value)
    return (match["code"], match["label"]) if match else (None, value)


@lru_cache(maxsize=4096)
def area(text: str) -> tuple[str | None, bool]:
    """(ISO alpha-2 or aggregate code, is_aggregate) for a REPORTER or PARTNER value."""
    code, label = split_code_label(text)
    if code is not None and (found := _area_code(code)) is not None:
        return found
    found = _area_label(label)
    if found[0] is None and code is not None:
        found = _area_label(normalize_text(text))  # an upper-case label with a hyphen
    return found


def _area_label(label: str) -> tuple[str | None, bool]:
    if match := _AGGREGATE_LABEL.fullmatch(label):
        kind = "EU" if match["kind"].lower().startswith("european") else "EA"
        return f"{kind}{match['size'] or ''}", True
    if match := _EXTRA_INTRA.fullmatch(label):
        return f"{match['kind'].upper()}_EU{match['size'] or ''}", True
    if label.lower() in ("world", "all countries of the world"):
        return WORLD, True
    return country_iso2(label), False


def _area_code(code: str) -> tuple[str | None, bool] | None:
    if match := _AGGREGATE_CODE.fullmatch(code):
        return f"{match['kind']}{match['size'] or ''}", True
    if code in ("WORLD", "WLD"):
        return WORLD, True
    if code in GEO_CODES:
        return GEO_CODES[code], False
    iso2 = alpha2_code(code)
    return None if iso2 is None else (iso2, False)


@lru_cache(maxsize=4096)
def period_of(text: str) -> Period:
    """Period of a PERIOD value: "Aug. 2024", "202408-Aug. 2024", "2024" or "202452-2024"."""
    code, label = split_code_label(text)
    from_label = _label_period(label)
    if code is None:
        if from_label is None:
            raise ValueError(f"PERIOD {text!r} is not a month or a year")
        return from_label
    if re.fullmatch(r"\d{4}52", code):
        from_code = year_period(int(code[:4]))
    elif re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", code):
        from_code = month_period(int(code[:4]), int(code[4:]))
    else:
        raise ValueError(f"PERIOD code {code!r} is not YYYYMM or YYYY52")
    if from_label != from_code:
        raise ValueError(f"PERIOD {text!r}: code and label disagree")
    return from_code


def _label_period(label: str) -> Period | None:
    if match := _MONTH_LABEL.fullmatch(label):
        month = MONTHS.get(match["month"].upper())
        return None if month is None else month_period(int(match["year"]), month)
    if match := _ANNUAL_LABEL.fullmatch(label):
        return year_period(int(match["year"]))
    return None


@lru_cache(maxsize=4096)
def product_code_of(text: str) -> str:
    """The product code: "TOTAL" for the total, else the code part (HS2..HS6 or CN8)."""
    code, label = split_code_label(text)
    if code is not None:
        return code
    if label.upper() == "TOTAL" or label.isdigit():
        return label.upper()
    raise ValueError(f"PRODUCT {text!r} is a label without a code; download the code-label variant")


@lru_cache(maxsize=4096)
def flow_of(text: str) -> str | None:
    """X or M for a FLOW value ("EXPORT", "2-EXPORT", "2"), None if unknown."""
    code, label = split_code_label(text)
    return FLOWS.get(code or "") or FLOWS.get(label.upper())


@lru_cache(maxsize=4096)
def is_total_procedure(text: str) -> bool:
    """Whether a STAT_PROCEDURE value is the total over all procedures."""
    code, label = split_code_label(text)
    return (code or "").upper() in TOTAL_PROCEDURES or label.upper() in TOTAL_PROCEDURES


def parse(data: bytes) -> pl.DataFrame:
    """Normalized frame for a Comext Relational View CSV (one row per input record)."""
    header, records = read_csv(decode(data, fmt=FORMAT, encodings=ENCODINGS), fmt=FORMAT)
    col = column_index(header, REQUIRED, (STAT_PROCEDURE, QUANTITY), fmt=FORMAT)
    rows = []
    for number, record in records:
        check_width(record, len(header), number, fmt=FORMAT)

        def get(name: str, record: list[str] = record) -> str:
            return record[col[name]].strip()

        flow = flow_of(get("FLOW"))
        if flow is None:
            raise TradeFormatError(f"{FORMAT}: row {number}: unsupported FLOW {get('FLOW')!r}")
        if STAT_PROCEDURE in col and not is_total_procedure(get(STAT_PROCEDURE)):
            raise TradeFormatError(
                f"{FORMAT}: row {number}: STAT_PROCEDURE {get(STAT_PROCEDURE)!r} is not the "
                "total; a breakdown by procedure does not fit the normalized grain"
            )
        try:
            period = period_of(get("PERIOD"))
            product_code = product_code_of(get("PRODUCT"))
        except ValueError as exc:
            raise TradeFormatError(f"{FORMAT}: row {number}: {exc}") from exc
        reporter, reporter_aggregate = area(get("REPORTER"))
        partner, partner_aggregate = area(get("PARTNER"))
        value = parse_decimal(get("VALUE_IN_EUR"), column="VALUE_IN_EUR", number=number, fmt=FORMAT)
        quantity = (
            parse_decimal(get(QUANTITY), column=QUANTITY, number=number, fmt=FORMAT)
            if QUANTITY in col
            else None
        )
        rows.append(
            Row(
                reporter_country=reporter,
                reporter_label=get("REPORTER") or None,
                reporter_is_aggregate=reporter_aggregate,
                partner_country=partner,
                partner_label=get("PARTNER") or None,
                partner_is_aggregate=partner_aggregate,
                flow=flow,
                period_start=period.start,
                period_end=period.end,
                period_granularity=period.granularity,
                product_code=product_code,
                hs6=hs6_of(product_code),
                hs_edition=None,
                value_usd=None,
                value_eur=as_float(value),
                net_weight_kg=as_float(
                    None if quantity is None else quantity * KG_PER_QUANTITY_UNIT
                ),
                source_row_number=number,
            )
        )
    return to_frame(rows)
