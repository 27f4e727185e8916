"""Shared pieces of the trade-statistics parsers: output schema, decoding, CSV rows, numbers."""

from __future__ import annotations

import calendar
import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import polars as pl
import pycountry

from assets.trade_statistics.formats import TradeFormatError

SCHEMA = pl.Schema(
    {
        "reporter_country": pl.String,
        "reporter_label": pl.String,
        "reporter_is_aggregate": pl.Boolean,
        "partner_country": pl.String,
        "partner_label": pl.String,
        "partner_is_aggregate": pl.Boolean,
        "flow": pl.String,
        "period_start": pl.Date,
        "period_end": pl.Date,
        "period_granularity": pl.String,
        "product_code": pl.String,
        "hs6": pl.String,
        "hs_edition": pl.String,
        "value_usd": pl.Float64,
        "value_eur": pl.Float64,
        "net_weight_kg": pl.Float64,
        "source_row_number": pl.Int64,
    }
)
COLUMNS = tuple(SCHEMA.names())

WORLD = "WORLD"


@dataclass(frozen=True, slots=True)
class Period:
    """A reference period: first day, last day and granularity (month, year, partial_year)."""

    start: date
    end: date
    granularity: str


def month_period(year: int, month: int) -> Period:
    """One calendar month."""
    return months_period(year, month, month)


def year_period(year: int) -> Period:
    """One calendar year."""
    return Period(date(year, 1, 1), date(year, 12, 31), "year")


def months_period(year: int, first: int, last: int) -> Period:
    """Months first..last of one year: a month, the year, or a partial year."""
    if not 1 <= first <= last <= 12:
        raise ValueError(f"months {first}..{last} of {year} are not a range within one year")
    end = date(year, last, calendar.monthrange(year, last)[1])
    if first == last:
        granularity = "month"
    elif (first, last) == (1, 12):
        granularity = "year"
    else:
        granularity = "partial_year"
    return Period(date(year, first, 1), end, granularity)


@dataclass(slots=True)
class Row:
    """One normalized output row; field names and order are the output columns."""

    reporter_country: str | None
    reporter_label: str | None
    reporter_is_aggregate: bool
    partner_country: str | None
    partner_label: str | None
    partner_is_aggregate: bool
    flow: str
    period_start: date
    period_end: date
    period_granularity: str
    product_code: str
    hs6: str | None
    hs_edition: str | None
    value_usd: float | None
    value_eur: float | None
    net_weight_kg: float | None
    source_row_number: int


assert tuple(f.name for f in fields(Row)) == COLUMNS


def to_frame(rows: Sequence[Row]) -> pl.DataFrame:
    """The normalized frame (exactly `COLUMNS`, typed as `SCHEMA`) for the rows."""
    data = {name: [getattr(row, name) for row in rows] for name in COLUMNS}
    return pl.DataFrame(data, schema=SCHEMA)


def decode(data: bytes, *, fmt: str, encodings: Sequence[str]) -> str:
    """Text of the file: a UTF-8 BOM wins, then each encoding in turn, strictly."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TradeFormatError(f"{fmt}: file is UTF-16 (BOM); expected {' or '.join(encodings)}")
    if data.startswith(codecs.BOM_UTF8):
        encodings, data = ("utf-8",), data[len(codecs.BOM_UTF8) :]
    error: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            error = exc
    assert error is not None
    raise TradeFormatError(
        f"{fmt}: bytes are not {' or '.join(encodings)}: "
        f"byte 0x{error.object[error.start]:02x} at offset {error.start} cannot be decoded"
    ) from error


def read_csv(text: str, *, fmt: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (names stripped) and the data records with their 1-based record numbers.

    Blank records and repeats of the header (left by concatenating downloads) are skipped,
    but still counted, so that a record number always points at the same record in the file.
    """
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        raw_header = next(reader, None)
        if not raw_header or not any(name.strip() for name in raw_header):
            raise TradeFormatError(f"{fmt}: file is empty or has no header row")
        records = []
        for number, record in enumerate(reader, start=1):
            if not any(value.strip() for value in record) or record == raw_header:
                continue
            records.append((number, record))
    except csv.Error as exc:
        raise TradeFormatError(f"{fmt}: not a readable CSV file ({exc})") from exc
    return [name.strip() for name in raw_header], records


def column_index(
    header: Sequence[str], required: Iterable[str], optional: Iterable[str] = (), *, fmt: str
) -> dict[str, int]:
    """Position of each named column; a missing required column means another layout."""
    positions = {name: i for i, name in reversed(list(enumerate(header)))}
    missing = [name for name in required if name not in positions]
    if missing:
        raise TradeFormatError(
            f"{fmt}: header is not the expected layout: missing column(s) {missing}; "
            f"header was {list(header)[:12]}"
        )
    wanted = [*required, *optional]
    return {name: positions[name] for name in wanted if name in positions}


def check_width(record: Sequence[str], width: int, number: int, *, fmt: str) -> None:
    """A record has one field per header column (one extra empty field is tolerated)."""
    if len(record) == width or (len(record) == width + 1 and not record[-1].strip()):
        return
    raise TradeFormatError(f"{fmt}: row {number} has {len(record)} fields, header has {width}")


_PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_GROUPED_NUMBER = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
MISSING = frozenset({"", ":"})


def parse_decimal(text: str, *, column: str, number: int, fmt: str) -> Decimal | None:
    """Exact value of a numeric field; None when empty or Eurostat's ':' (not available)."""
    value = text.strip()
    if value in MISSING:
        return None
    if _GROUPED_NUMBER.fullmatch(value):
        value = value.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(value):
        raise TradeFormatError(f"{fmt}: row {number}: {column} is not a number: {text!r}")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above admits only numbers
        raise TradeFormatError(f"{fmt}: row {number}: {column} is not a number: {text!r}") from exc


def as_float(value: Decimal | None) -> float | None:
    """The nearest float to an exact decimal value."""
    return None if value is None else float(value)


def hs6_of(product_code: str) -> str | None:
    """First six digits of an all-digit code of six digits or more (HS, CN8, CCC11)."""
    code = product_code.strip()
    return code[:6] if len(code) >= 6 and code.isascii() and code.isdigit() else None


def normalize_text(text: str) -> str:
    """NFKC form (full-width digits and brackets become ASCII), trimmed, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


# English spellings (lower case) that pycountry's exact lookups miss. No fuzzy matching:
# pycountry's search_fuzzy maps "Kosovo" to Serbia.
_NAME_OVERRIDES: dict[str, str] = {
    "turkey": "TR",
    "russia": "RU",
    "kosovo": "XK",
    "macau": "MO",
    "ivory coast": "CI",
    "cote d'ivoire": "CI",
    "east timor": "TL",
    "south korea": "KR",
    "korea, south": "KR",
    "north korea": "KP",
    "korea, north": "KP",
    "vietnam": "VN",
    "laos": "LA",
    "iran": "IR",
    "syria": "SY",
    "brunei": "BN",
    "micronesia": "FM",
    "reunion": "RE",
    "usa": "US",
    "united states of america": "US",
    "czech republic": "CZ",
    "democratic republic of the congo": "CD",
    "congo, democratic republic of": "CD",
    "republic of the congo": "CG",
    "united states virgin islands": "VI",
    "british virgin islands": "VG",
    "eire": "IE",
    "cape verde": "CV",
    "swaziland": "SZ",
    "macedonia": "MK",
    "north macedonia": "MK",
    "moldova": "MD",
    "palestine": "PS",
}


def _exact_iso2(name: str) -> str | None:
    key = name.lower()
    if key in _NAME_OVERRIDES:
        return _NAME_OVERRIDES[key]
    for attribute in ("name", "common_name", "official_name"):
        found = pycountry.countries.get(**{attribute: name})  # type: ignore[arg-type]
        if found is not None:
            return str(found.alpha_2)
    return None


_PARENTHESISED = re.compile(r"(?P<base>.*?)\s*\((?P<inner>.*)\)\s*")


@lru_cache(maxsize=4096)
def country_iso2(label: str | None) -> str | None:
    """ISO alpha-2 for an English country label, or None when it cannot be told for sure.

    A trailing parenthesis ("Russian Federation (Russia)", "Ireland (Eire)",
    "Belgium (incl. Luxembourg 'LU' -> 1998)") is tried without it, then on its own.
    """
    if not label:
        return None
    text = normalize_text(label)
    found = _exact_iso2(text)
    if found is None and (match := _PARENTHESISED.fullmatch(text)):
        found = _exact_iso2(match["base"]) or _exact_iso2(match["inner"])
    return found


@lru_cache(maxsize=4096)
def alpha2_code(code: str) -> str | None:
    """An ISO alpha-2 code if `code` is one (XK, used for Kosovo, is accepted)."""
    code = code.strip().upper()
    if code == "XK":
        return code
    found = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return None if found is None else str(found.alpha_2)


@lru_cache(maxsize=4096)
def alpha3_to_iso2(code: str) -> str | None:
    """ISO alpha-2 for an ISO alpha-3 code (XKX, used for Kosovo, is accepted)."""
    code = code.strip().upper()
    if code == "XKX":
        return "XK"
    found = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
    return None if found is None else str(found.alpha_2)
