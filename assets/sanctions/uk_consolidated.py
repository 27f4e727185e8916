"""Parser for the UK (OFSI) Consolidated List of Financial Sanctions Targets, CSV layout.

ConList.csv: a title row (`Last Updated,dd/mm/yyyy`), a 36-column header (`Name 6`, `Name 1`..
`Name 5`, `Title`, `Name Non-Latin Script`, ..., `Other Information`, `Group Type`, `Alias Type`,
`Alias Quality`, `Regime`, `Listed On`, `UK Sanctions List Date Designated`, `Last Updated`,
`Group ID`), then one row per name variant; the rows of one designation share a `Group ID`.
Layout taken from public parsers (no real file was at hand): moov-io/watchman
`pkg/csl_uk/reader_uk.go` (36 fields, two leading rows skipped, column indices) and
opensanctions/opensanctions `opensanctions/crawlers/gb_hmt_sanctions.py` (CSV-era column names)
and `datasets/gb/hmt/crawler.py` (alias types `Primary name`/`Primary name variation`/`AKA`/`FKA`,
qualities). The CSV has no registration-number column: the UK Sanctions List Ref, registration
and tax numbers sit in `Other Information` as `(Label):value` text.

Completeness (`check_complete`): the title row `Last Updated,dd/mm/yyyy` must come first, and
the file must end with a line break (assumed from the publisher's CSV writer, not verified on a
real file: a cut inside the last column, `Group ID`, would otherwise invent an entry). The format
has no trailer or record count, so a file cut at a line boundary cannot be told from a whole one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import date

from assets.sanctions.countries import to_iso2
from assets.sanctions.identifiers import check_digits, find_russian_ids
from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
)
from assets.sanctions.parsing import (
    IncompleteSnapshotError,
    Row,
    decode_text,
    describe_value,
    frame,
    read_date,
    refuse_gzip,
    require_data,
    require_final_line_break,
    require_part,
)

PARSER_VERSION = "uk-conlist-csv/1"
PARTS: tuple[str, ...] = ("conlist",)
MAIN_PART = "conlist"

GIVEN_NAME_COLUMNS = ("Name 1", "Name 2", "Name 3", "Name 4", "Name 5")
NAME_COLUMNS = (*GIVEN_NAME_COLUMNS, "Name 6")
ADDRESS_LINE_COLUMNS = (
    "Address 1",
    "Address 2",
    "Address 3",
    "Address 4",
    "Address 5",
    "Address 6",
    "Post/Zip Code",
)
REQUIRED_COLUMNS = (*NAME_COLUMNS, "Group Type", "Alias Type", "Regime", "Listed On", "Group ID")
TITLE_ROW_LABEL = "Last Updated"

GROUP_TYPES = {"individual": "individual", "entity": "entity", "ship": "vessel"}
# `Alias Quality` as written in the CSV (short) and in the XML twin (long); blank = not stated.
ALIAS_QUALITIES: dict[str, str | None] = {
    "": None,
    "good": "strong",
    "good quality": "strong",
    "low": "weak",
    "low quality": "weak",
}
PRIMARY_NAME = "primary name"
ORIGINAL_SCRIPT = "original_script"


_IMO = re.compile(r"(?<![A-Za-z])IMO(?: [Nn]umber)?\)?\s*[:.\-]?\s*(?P<value>\d{7})(?!\d)")
_UK_REF = re.compile(r"\(UK Sanctions List Ref\)\s*:\s*(?P<value>[A-Z]{2,4}\d{3,5})")
_UN_REF = re.compile(r"\(UN Ref\)\s*:\s*(?P<value>[A-Za-z]{2,4}\.\d+)")
_NUMBERED = re.compile(r"\(\d{1,2}\)")
_DATE = re.compile(r"^(?P<day>\d{2})/(?P<month>\d{2})/(?P<year>\d{4})$")


def read_conlist(data: bytes) -> tuple[list[str], list[list[str]]]:
    """The header and the data records of a ConList.csv file, every field a verbatim string.

    Skips the `Last Updated` title row and blank rows. Raises `SnapshotFormatError` on empty
    or gzip-compressed input, a missing header or required column, or a record whose number of
    fields differs from the header's.
    """
    refuse_gzip(data)
    if not data.strip():
        raise SnapshotFormatError("empty input: the file holds no records")
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    header: list[str] | None = None
    seen_title = False
    records: list[list[str]] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                cells = [cell.strip() for cell in record]
                if "Group ID" in cells and "Name 6" in cells:
                    header = cells
                elif cells[0].startswith(TITLE_ROW_LABEL) and not seen_title:
                    seen_title = True
                else:
                    raise SnapshotFormatError(
                        f"line {reader.line_num} is neither the '{TITLE_ROW_LABEL}' title row "
                        f"nor the ConList header (starts {cells[:3]!r}): not a ConList.csv file"
                    )
                continue
            if len(record) != len(header):
                raise SnapshotFormatError(
                    f"line {reader.line_num} has {len(record)} fields, the header has {len(header)}"
                )
            records.append(record)
    except csv.Error as exc:
        raise SnapshotFormatError(f"malformed CSV at line {reader.line_num}: {exc}") from exc
    if header is None:
        raise SnapshotFormatError("no ConList header row (with 'Name 6' and 'Group ID') found")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise SnapshotFormatError(f"ConList header lacks columns {missing}")
    named = [name for name in header if name]
    if len(set(named)) != len(named):
        raise SnapshotFormatError(f"ConList header repeats a column name: {header}")
    if not records:
        raise SnapshotFormatError("the file has a header but no records")
    return header, records


def check_complete(parts: Mapping[str, bytes]) -> None:
    """Title row `Last Updated,dd/mm/yyyy` first, with a real date; a line break at the end."""
    data = require_part(parts, MAIN_PART)
    require_data(MAIN_PART, data)
    require_final_line_break(MAIN_PART, data)
    first_line = decode_text(data.split(b"\n", 1)[0]).strip()
    cells = next(csv.reader([first_line]), [])
    label = cells[0].strip() if cells else ""
    if label != TITLE_ROW_LABEL:
        raise IncompleteSnapshotError(
            f"part {MAIN_PART}: the first line is not the '{TITLE_ROW_LABEL},dd/mm/yyyy' title "
            "row the publisher always writes: the file is incomplete or not a ConList.csv"
        )
    stamp = cells[1].strip() if len(cells) > 1 else ""
    if read_date(stamp, (_DATE,)) is None:
        raise IncompleteSnapshotError(
            f"part {MAIN_PART}: the '{TITLE_ROW_LABEL}' title row has no dd/mm/yyyy date "
            f"(has {describe_value(stamp)})"
        )


def parse(parts: Mapping[str, bytes]) -> ParsedList:
    """One ConList.csv snapshot (part `conlist`) in the list model: one entry per `Group ID`.

    Refuses a file without its title row (`check_complete`).

    Name: the first `Primary name` row (else the group's first row), `Name 1`..`Name 5` then
    `Name 6`; other rows become aliases typed by `Alias Type` (lower-cased) with `Alias Quality`
    Good -> strong, Low -> weak, blank -> null; `Name Non-Latin Script` -> `original_script`.
    Listing date: the earliest `Listed On` (else `UK Sanctions List Date Designated`).
    Identifiers: passport and national-id numbers, the UK Sanctions List Ref, the UN Ref, INN /
    OGRN and IMO numbers written in `Other Information`.
    """
    check_complete(parts)
    header, records = read_conlist(parts[MAIN_PART])
    columns = {name: position for position, name in enumerate(header) if name}
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, record in enumerate(records, start=1):
        row = {name: record[position].strip() for name, position in columns.items()}
        group_id = row["Group ID"]
        if not group_id:
            raise SnapshotFormatError(f"record {number} has an empty Group ID")
        groups.setdefault(group_id, []).append((number, row))

    entries: list[Row] = []
    aliases: list[Row] = []
    identifiers: list[Row] = []
    addresses: list[Row] = []
    for group_id, rows in groups.items():
        entry, group_aliases, group_identifiers, group_addresses = _group(group_id, rows)
        entries.append(entry)
        aliases += group_aliases
        identifiers += group_identifiers
        addresses += group_addresses
    return ParsedList(
        entries=frame(entries, ENTRY_SCHEMA),
        aliases=frame(aliases, ALIAS_SCHEMA),
        identifiers=frame(identifiers, IDENTIFIER_SCHEMA),
        addresses=frame(addresses, ADDRESS_SCHEMA),
    )


def _group(
    group_id: str, rows: list[tuple[int, dict[str, str]]]
) -> tuple[Row, list[Row], list[Row], list[Row]]:
    values = [row for _, row in rows]
    entity_type = _entity_type(group_id, values)
    primary = next((row for row in values if row["Alias Type"].lower() == PRIMARY_NAME), values[0])
    name = _full_name(primary) or primary.get("Name Non-Latin Script", "")
    if not name:
        raise SnapshotFormatError(f"Group ID {group_id}: the primary name row has no name")

    aliases: dict[tuple[str, str | None, str | None], None] = {}
    identifiers: dict[tuple[str, str], None] = {}
    addresses: dict[tuple[str, str | None], None] = {}
    countries: set[str] = set()
    for row in values:
        quality = _alias_quality(group_id, row)
        full = _full_name(row)
        if row is not primary and full and full != name:
            aliases[(full, row["Alias Type"].lower() or None, quality)] = None
        non_latin = row.get("Name Non-Latin Script", "")
        if non_latin and non_latin != name:
            aliases[(non_latin, ORIGINAL_SCRIPT, quality)] = None
        for scheme, value in _row_identifiers(row):
            identifiers.setdefault((scheme, value), None)
        address = _address(row)
        if address is not None:
            addresses[address] = None
        for text in (row.get("Country", ""), row.get("Nationality", "")):
            countries.update(c for c in (to_iso2(part) for part in split_numbered(text)) if c)

    listed = [d for d in (_date(group_id, "Listed On", row["Listed On"]) for row in values) if d]
    if not listed:
        designated = (row.get("UK Sanctions List Date Designated", "") for row in values)
        listed = [d for d in (_date(group_id, "Date Designated", t) for t in designated) if d]
    remarks = list(
        dict.fromkeys(row["Other Information"] for row in values if row.get("Other Information"))
    )
    entry: Row = {
        "entry_id": group_id,
        "entity_type": entity_type,
        "name": name,
        "programs": sorted({row["Regime"] for row in values if row["Regime"]}),
        "countries": sorted(countries),
        "listing_date": min(listed) if listed else None,
        "remarks": "\n".join(remarks) if remarks else None,
        "source_row_number": rows[0][0],
    }
    return (
        entry,
        [
            {"entry_id": group_id, "alias": alias, "alias_type": kind, "quality": quality}
            for alias, kind, quality in aliases
        ],
        [
            {
                "entry_id": group_id,
                "scheme": scheme,
                "value": value,
                "country": None,
                "is_valid": check_digits(scheme, value),
            }
            for scheme, value in identifiers
        ],
        [
            {
                "entry_id": group_id,
                "address": line,
                "city": None,
                "country": country,
            }
            for line, country in addresses
        ],
    )


def _entity_type(group_id: str, rows: list[dict[str, str]]) -> str:
    kinds = {row["Group Type"] for row in rows if row["Group Type"]}
    if len(kinds) > 1:
        raise SnapshotFormatError(f"Group ID {group_id} has conflicting Group Type {sorted(kinds)}")
    if not kinds:
        return "unknown"
    kind = kinds.pop()
    if kind.lower() not in GROUP_TYPES:
        raise SnapshotFormatError(f"Group ID {group_id}: unknown Group Type {kind!r}")
    return GROUP_TYPES[kind.lower()]


def _alias_quality(group_id: str, row: dict[str, str]) -> str | None:
    text = row.get("Alias Quality", "").lower()
    if text not in ALIAS_QUALITIES:
        raise SnapshotFormatError(
            f"Group ID {group_id}: unknown Alias Quality {row['Alias Quality']!r}"
        )
    return ALIAS_QUALITIES[text]


def _full_name(row: dict[str, str]) -> str:
    """Given names (Name 1..5) then the family or entity name (Name 6), single-spaced."""
    return " ".join(" ".join(row.get(column, "") for column in NAME_COLUMNS).split())


def split_numbered(text: str) -> list[str]:
    """`(1) A (2) B` -> [A, B]; text without numbering -> [text]; trailing dots trimmed."""
    parts = (part.strip(" .;,") for part in _NUMBERED.split(text))
    return [part for part in parts if part]


def _row_identifiers(row: dict[str, str]) -> Iterable[tuple[str, str]]:
    for value in split_numbered(row.get("Passport Number", "")):
        yield "PASSPORT", value
    for value in split_numbered(row.get("National Identification Number", "")):
        yield "NATIONAL_ID", value
    if row.get("UK Sanctions List Ref"):
        yield "UK_SANCTIONS_LIST_REF", row["UK Sanctions List Ref"]
    other = row.get("Other Information", "")
    for match in _UK_REF.finditer(other):
        yield "UK_SANCTIONS_LIST_REF", match.group("value")
    for match in _UN_REF.finditer(other):
        yield "UN_REFERENCE", match.group("value")
    yield from find_russian_ids(other)
    for match in _IMO.finditer(other):
        yield "IMO", match.group("value")


def _address(row: dict[str, str]) -> tuple[str, str | None] | None:
    country = row.get("Country", "")
    parts = [row.get(column, "") for column in ADDRESS_LINE_COLUMNS] + [country]
    line = ", ".join(part for part in parts if part)
    if not line:
        return None
    return line, (to_iso2(country) or country or None)


def _date(group_id: str, column: str, text: str) -> date | None:
    if not text:
        return None
    found = read_date(text, (_DATE,))
    if found is None:
        raise SnapshotFormatError(
            f"Group ID {group_id}: {column} {text!r} is not a dd/mm/yyyy date"
        )
    return found
