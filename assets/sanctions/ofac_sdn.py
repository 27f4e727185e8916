"""Parser for OFAC's legacy SDN CSV files (sdn.csv, alt.csv, add.csv).

`parse(parts)` reads a snapshot: `sdn`, with `alt` and `add` when received. Every part must end
with OFAC's end-of-file byte 0x1A after its last line break (`check_complete`): a file without it
was cut short, even at a line boundary. `read_legacy_csv` returns a file as received: one row
per record, every field a verbatim string. The `normalize_*` and `extract_*` functions turn that
raw frame into typed tables. Bump `PARSER_VERSION` whenever any of their outputs changes for the
same input bytes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence

import polars as pl

from assets.sanctions.countries import to_iso2
from assets.sanctions.identifiers import VALIDATORS as IDENTIFIER_VALIDATORS
from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
    conform,
    empty,
)
from assets.sanctions.parsing import (
    decode_text,
    refuse_gzip,
    require_data,
    require_part,
    require_trailer,
)

PARSER_VERSION = "ofac-sdn-csv/1"
PARTS: tuple[str, ...] = ("sdn", "alt", "add")
MAIN_PART = "sdn"
# Every legacy file OFAC publishes ends with CRLF and then this byte (a DOS end-of-file mark).
END_OF_FILE = b"\x1a"

SDN_COLUMNS: tuple[str, ...] = (
    "ent_num",
    "sdn_name",
    "sdn_type",
    "programs",
    "title",
    "call_sign",
    "vess_type",
    "tonnage",
    "grt",
    "vess_flag",
    "vess_owner",
    "remarks",
)
ALT_COLUMNS: tuple[str, ...] = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
ADD_COLUMNS: tuple[str, ...] = (
    "ent_num",
    "add_num",
    "address",
    "city_state_postal",
    "country",
    "add_remarks",
)

NULL_MARKER = "-0-"
ENTITY_TYPES: tuple[str, ...] = ("entity", "individual", "vessel", "aircraft")
# OFAC's data specification caps Remarks at 1000 characters and moves the rest to a separate
# spillover file (sdn_comments.csv), so a remark of this length may end mid-fact.
REMARKS_MAX_LENGTH = 1000
REMARK_SEPARATOR = "; "

# Remark label (as OFAC writes it, optionally prefixed by "alt. ") -> identifier scheme.
IDENTIFIER_LABELS: dict[str, str] = {
    "Tax ID No.": "TAX_ID",
    "Registration Number": "REGISTRATION_NUMBER",
    "Registration ID": "REGISTRATION_NUMBER",
    "Business Registration Number": "REGISTRATION_NUMBER",
    "Government Gazette Number": "GOVERNMENT_GAZETTE_NUMBER",
    "Legal Entity Number": "LEI",
    "Unified Social Credit Code (USCC)": "CN_USCC",
    "SWIFT/BIC": "SWIFT_BIC",
    "Company Number": "COMPANY_NUMBER",
    "Commercial Registry Number": "COMMERCIAL_REGISTRY_NUMBER",
    "C.R. No.": "COMMERCIAL_REGISTRY_NUMBER",
    "Trade License No.": "TRADE_LICENSE_NUMBER",
    "V.A.T. Number": "VAT_NUMBER",
    "Economic Register Number (CBLS)": "ECONOMIC_REGISTER_NUMBER",
    "Vessel Registration Identification IMO": "IMO",
    "Identification Number IMO": "IMO",
    "MMSI": "MMSI",
    "Aircraft Manufacturer's Serial Number (MSN)": "AIRCRAFT_MSN",
    "Aircraft Tail Number": "AIRCRAFT_TAIL_NUMBER",
    "Passport": "PASSPORT",
    "National ID No.": "NATIONAL_ID",
    "Identification Number": "IDENTIFICATION_NUMBER",
}


# Longest label first: the regex alternation takes the first label that matches.
_LABEL_PATTERN = "|".join(re.escape(label) for label in sorted(IDENTIFIER_LABELS, key=len)[::-1])
_IDENTIFIER_FACT = rf"^(?:alt\.\s+)?(?P<label>{_LABEL_PATTERN})\s+(?P<rest>.+)$"
_VALUE_AND_COUNTRY = r"^(?P<value>.+?)(?:\s+\((?P<country>[^()]*)\))?$"
_ALIAS_FACT = r"^(?P<kind>[afn])\.k\.a\.\s+'(?P<alias>.+)'$"

_INTEGER = r"^[0-9]+$"


def read_legacy_csv(data: bytes, columns: Sequence[str]) -> pl.DataFrame:
    """Split one legacy CSV file into records, keeping every field verbatim as a string.

    Adds `row_number` (1-based record number). Raises `SnapshotFormatError` on empty input,
    a record with the wrong number of fields, a non-integer `ent_num`, or a header row.
    """
    columns = tuple(columns)
    if not columns or len(set(columns)) != len(columns):
        raise ValueError(f"columns must be non-empty and distinct, got {columns!r}")
    refuse_gzip(data)
    body = data.rstrip(END_OF_FILE)
    if not body.strip():
        raise SnapshotFormatError("empty input: the file holds no records")

    text = decode_text(body, ("cp1252",)).rstrip("\r\n")
    fields: list[list[str]] = [[] for _ in columns]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row_number, record in enumerate(reader, start=1):
            if len(record) != len(columns):
                raise SnapshotFormatError(
                    f"row {row_number} (line {reader.line_num}) has {len(record)} fields, "
                    f"expected {len(columns)}: {', '.join(columns)}"
                )
            for values, value in zip(fields, record, strict=True):
                values.append(value)
    except csv.Error as exc:
        raise SnapshotFormatError(f"malformed CSV at line {reader.line_num}: {exc}") from exc

    frame = pl.DataFrame(
        dict(zip(columns, fields, strict=True)), schema=dict.fromkeys(columns, pl.String)
    )
    frame = frame.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_number"), *columns
    )
    if "ent_num" in columns:
        _check_integers(frame, ("ent_num",))
    return frame


def normalize_sdn(raw: pl.DataFrame) -> pl.DataFrame:
    """One typed row per SDN entry, in file order. `listing_date` is always null here."""
    _require_columns(raw, SDN_COLUMNS)
    _check_integers(raw, ("ent_num",))
    programs = (
        _text("programs")
        .str.replace_all(r"\]\s*\[", "] [")
        .str.split("] [")
        .list.eval(pl.element().str.strip_chars(" []"))
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.unique()
        .list.sort()
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    sdn = raw.select(
        pl.col("ent_num").cast(pl.Int64),
        _text("sdn_name").alias("name"),
        _text("sdn_type").str.to_lowercase().fill_null("entity").alias("entity_type"),
        programs.alias("programs"),
        _text("title"),
        _text("call_sign"),
        _text("vess_type").alias("vessel_type"),
        _text("tonnage"),
        _text("grt"),
        _text("vess_flag").alias("vessel_flag"),
        _text("vess_owner").alias("vessel_owner"),
        _text("remarks"),
    ).with_columns(
        pl.col("remarks")
        .str.contains("(?i)secondary sanctions risk")
        .fill_null(False)
        .alias("secondary_sanctions_risk"),
        pl.lit(None, dtype=pl.Date).alias("listing_date"),
    )

    unknown = sdn.filter(~pl.col("entity_type").is_in(ENTITY_TYPES))
    if unknown.height:
        raise SnapshotFormatError(
            f"unknown sdn_type {unknown['entity_type'][0]!r} for ent_num {unknown['ent_num'][0]}"
        )
    _check_unique(sdn, "ent_num")
    return sdn


def extract_identifiers(sdn: pl.DataFrame) -> pl.DataFrame:
    """One row per identifier written in the remarks of `normalize_sdn` output.

    Only the labels in `IDENTIFIER_LABELS` are read. A Russian `Tax ID No.` of 10 or 12 digits
    becomes `RU_INN`; a Russian registration number of 13 (OGRN) or 15 (OGRNIP) digits becomes
    `RU_OGRN`. `is_valid` is the python-stdnum check for schemes in `IDENTIFIER_VALIDATORS` and
    null for the rest; identifiers failing their check are kept. The last fact of a remarks
    field cut at `REMARKS_MAX_LENGTH` is skipped because it may be incomplete.
    """
    parts = (
        _remark_facts(sdn)
        .with_columns(pl.col("fact").str.extract_groups(_IDENTIFIER_FACT).alias("m"))
        .unnest("m")
        .filter(pl.col("label").is_not_null())
        .with_columns(
            pl.col("rest")
            .str.replace(r"\s+(?:issued|expires)\s.*$", "")
            .str.extract_groups(_VALUE_AND_COUNTRY)
            .alias("m")
        )
        .unnest("m")
    )
    value = pl.col("value").str.strip_chars()
    country = pl.col("country").str.strip_chars()
    generic = pl.col("label").replace_strict(IDENTIFIER_LABELS, return_dtype=pl.String)
    is_russia = country.str.to_lowercase() == "russia"
    scheme = (
        pl.when(generic.eq("TAX_ID") & is_russia & value.str.contains(r"^(?:\d{10}|\d{12})$"))
        .then(pl.lit("RU_INN"))
        .when(
            generic.eq("REGISTRATION_NUMBER")
            & is_russia
            & value.str.contains(r"^(?:\d{13}|\d{15})$")
        )
        .then(pl.lit("RU_OGRN"))
        .otherwise(generic)
    )
    identifiers = parts.select(
        "ent_num",
        scheme.alias("scheme"),
        value.alias("value"),
        pl.when(country != "").then(country).alias("country"),
    )
    validity = [
        IDENTIFIER_VALIDATORS[s](v) if s in IDENTIFIER_VALIDATORS else None
        for s, v in zip(identifiers["scheme"], identifiers["value"], strict=True)
    ]
    return identifiers.with_columns(pl.Series("is_valid", validity, dtype=pl.Boolean))


def extract_remark_aliases(sdn: pl.DataFrame) -> pl.DataFrame:
    """Aliases written into remarks as `a.k.a. '...'` (also `f.k.a.`, `n.k.a.`).

    Every one gets `quality = "weak"`: the legacy files list full aliases in alt.csv and put
    OFAC's "weak AKAs" (nicknames, noms de guerre, common acronyms; low quality in the advanced
    XML) into the remarks in single quotes. OFAC does not expect screening on weak AKAs, so they
    must never produce a hit on their own. An alias cut off by `REMARKS_MAX_LENGTH` has no
    closing quote and is not extracted.
    """
    return (
        _remark_facts(sdn)
        .with_columns(pl.col("fact").str.extract_groups(_ALIAS_FACT).alias("m"))
        .unnest("m")
        .select(
            "ent_num",
            pl.col("alias").str.strip_chars(),
            pl.concat_str(pl.col("kind"), pl.lit(".k.a.")).alias("alias_type"),
            pl.lit("weak").alias("quality"),
        )
        .filter(pl.col("alias").is_not_null() & (pl.col("alias") != ""))
    )


def normalize_alt(raw: pl.DataFrame) -> pl.DataFrame:
    """One typed row per alias record of alt.csv."""
    _require_columns(raw, ALT_COLUMNS)
    _check_integers(raw, ("ent_num", "alt_num"))
    alt = raw.select(
        pl.col("ent_num").cast(pl.Int64),
        pl.col("alt_num").cast(pl.Int64),
        _text("alt_type").str.to_lowercase(),
        _text("alt_name"),
        _text("alt_remarks"),
    )
    _check_unique(alt, "alt_num")
    return alt


def normalize_add(raw: pl.DataFrame) -> pl.DataFrame:
    """One typed row per address record of add.csv."""
    _require_columns(raw, ADD_COLUMNS)
    _check_integers(raw, ("ent_num", "add_num"))
    add = raw.select(
        pl.col("ent_num").cast(pl.Int64),
        pl.col("add_num").cast(pl.Int64),
        _text("address"),
        _text("city_state_postal"),
        _text("country"),
        _text("add_remarks"),
    )
    _check_unique(add, "add_num")
    return add


def _text(name: str) -> pl.Expr:
    """Trimmed text with the null marker (and empty strings) as null."""
    value = pl.col(name).str.strip_chars()
    return pl.when(~value.is_in([NULL_MARKER, ""])).then(value).alias(name)


def _remark_facts(sdn: pl.DataFrame) -> pl.DataFrame:
    """One row per `; `-separated remark fact, minus a trailing period, in file order."""
    facts = pl.col("remarks").str.split(REMARK_SEPARATOR)
    complete = (
        pl.when(pl.col("remarks").str.len_chars() >= REMARKS_MAX_LENGTH)
        .then(facts.list.head(facts.list.len() - 1))
        .otherwise(facts)
    )
    return (
        sdn.select("ent_num", complete.alias("fact"))
        .filter(pl.col("fact").is_not_null())
        .explode("fact")
        .with_columns(pl.col("fact").str.strip_chars().str.replace(r"\.$", ""))
    )


def _require_columns(raw: pl.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise SnapshotFormatError(f"raw frame lacks columns {missing}; has {raw.columns}")


def _check_integers(raw: pl.DataFrame, columns: Sequence[str]) -> None:
    for name in columns:
        bad = raw.filter(~pl.col(name).str.contains(_INTEGER).fill_null(False))
        if not bad.height:
            continue
        row = bad["row_number"][0] if "row_number" in bad.columns else None
        value = bad[name][0]
        if row == 1 and name == "ent_num":
            raise SnapshotFormatError(
                f"row 1 starts with {value!r}, not an ent_num: the legacy CSV has no header row, "
                "so this is not an OFAC legacy CSV file"
            )
        raise SnapshotFormatError(f"row {row}: {name} {value!r} is not an integer")


def _check_unique(frame: pl.DataFrame, key: str) -> None:
    duplicated = frame.filter(pl.col(key).is_duplicated())
    if duplicated.height:
        raise SnapshotFormatError(f"duplicate {key} {duplicated[key][0]} in snapshot")


# Program tags OFAC renamed without changing the designation (compare normalized tags).
PROGRAM_RENAMES = {"RUSSIA-EO": "RUSSIA-EO14024"}


def check_complete(parts: Mapping[str, bytes]) -> None:
    """Every part ends with a line break and then the end-of-file byte 0x1A, found only there.

    The legacy format has no header, trailer record or record count: the 0x1A byte is the only
    sign that a file was received whole. A file cut cleanly at a line boundary lacks it.
    """
    require_part(parts, MAIN_PART)
    for part in PARTS:
        if part in parts:
            require_data(part, parts[part])
            require_trailer(
                part,
                parts[part],
                b"\n" + END_OF_FILE,
                "the end-of-file byte 0x1A after its last line",
            )


def parse(
    parts: Mapping[str, bytes] | bytes, alt: bytes | None = None, add: bytes | None = None
) -> ParsedList:
    """One SDN snapshot (`sdn`, with `alt` and `add` when received) in the list model.

    Refuses an incomplete part (`check_complete`). `parse(sdn_bytes, alt_bytes, add_bytes)` is
    the older call, kept for callers outside the registry; it runs the same checks.
    """
    if isinstance(parts, bytes):
        given = {"sdn": parts, "alt": alt, "add": add}
        parts = {part: data for part, data in given.items() if data is not None}
    elif alt is not None or add is not None:
        raise TypeError("pass alt and add inside parts, not beside them")
    check_complete(parts)
    return _parse(parts[MAIN_PART], parts.get("alt"), parts.get("add"))


def _parse(sdn: bytes, alt: bytes | None, add: bytes | None) -> ParsedList:
    raw = read_legacy_csv(sdn, SDN_COLUMNS)
    entries = normalize_sdn(raw).with_columns(
        raw.get_column("row_number").alias("source_row_number")
    )
    entry_id = pl.col("ent_num").cast(pl.String).alias("entry_id")

    identifiers = extract_identifiers(entries).select(
        entry_id, "scheme", "value", "country", "is_valid"
    )
    aliases = [extract_remark_aliases(entries).select(entry_id, "alias", "alias_type", "quality")]
    if alt is not None:
        alt_rows = normalize_alt(read_legacy_csv(alt, ALT_COLUMNS))
        aliases.append(
            alt_rows.select(
                entry_id,
                pl.col("alt_name").alias("alias"),
                pl.col("alt_type").alias("alias_type"),
                pl.lit("strong").alias("quality"),
            )
        )
    addresses = empty(ADDRESS_SCHEMA)
    if add is not None:
        add_rows = normalize_add(read_legacy_csv(add, ADD_COLUMNS))
        addresses = conform(
            add_rows.select(
                entry_id,
                pl.concat_str(
                    ["address", "city_state_postal", "country"], separator=", ", ignore_nulls=True
                ).alias("address"),
                pl.col("city_state_postal").alias("city"),
                pl.col("country")
                .map_elements(to_iso2, return_dtype=pl.String)
                .fill_null(pl.col("country")),
            ),
            ADDRESS_SCHEMA,
        )
    countries = (
        pl.concat(
            [
                identifiers.select("entry_id", pl.col("country")),
                addresses.select("entry_id", "country"),
            ]
        )
        .with_columns(pl.col("country").map_elements(to_iso2, return_dtype=pl.String))
        .drop_nulls()
        .unique()
        .group_by("entry_id")
        .agg(pl.col("country").sort().alias("countries"))
    )
    programs = (
        pl.col("programs")
        .list.eval(pl.element().replace(PROGRAM_RENAMES))
        .list.unique()
        .list.sort()
    )
    model_entries = conform(
        entries.select(entry_id, "entity_type", "name", programs, "remarks", "source_row_number")
        .join(countries, on="entry_id", how="left")
        .with_columns(pl.col("countries").fill_null(pl.lit([], dtype=pl.List(pl.String)))),
        ENTRY_SCHEMA,
    )
    return ParsedList(
        entries=model_entries,
        aliases=conform(pl.concat(aliases), ALIAS_SCHEMA),
        identifiers=conform(identifiers, IDENTIFIER_SCHEMA),
        addresses=addresses,
    )
