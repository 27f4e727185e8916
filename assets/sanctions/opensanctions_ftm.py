"""Parsers for OpenSanctions exports: FollowTheMoney entity lines, targets.simple CSV, and deltas.

`parse_entities` reads `entities.ftm.json` (one FtM entity object per line), `parse_simple_csv`
the `targets.simple.csv` export, `parse_delta` one `entities.delta.json` file (lines of
`{"op": "ADD"|"MOD"|"DEL", "entity": {...}}`) and `apply_deltas` replays delta files over a base.
Written without the `followthemoney` package: the schema names used here are plain strings.

Choices:
- Only "things" become entries: entities whose schema is not a link or detail schema
  (`Sanction`, `Address`, `Ownership`, ...) and whose OpenSanctions `target` flag is not false.
- `name` is the entity's `caption` (what OpenSanctions displays, and what targets.simple prints),
  else its first `name`; FtM does not give property values a meaningful order. The other `name`
  values become strong `aka` aliases, `alias` strong and `weakAlias` weak `aka` aliases,
  `previousName` `fka` aliases of unstated quality.
- `programs` are `programId` values, else `program` values, of the entity and of every
  `Sanction` entity whose `entity` property points at it.
- `listing_date` is the earliest complete date among the linked sanctions' `listingDate` and
  `startDate`, else the entity's own `listingDate`/`startDate`, else its earliest `createdAt`
  (OpenSanctions sets `createdAt` to the publisher's listing date). Partial dates (`2021`) count
  as none.
- A `taxNumber` of 10 or 12 digits on an entity with country RU is an `RU_INN`; an `imoNumber`
  on anything but a `Vessel` is an IMO company number (`IMO_COMPANY`, no check).
- Countries are FtM codes upper-cased; a subdivision code (`ua-cri`) gives its country, codes
  that are not ISO 3166-1 (`suhh`, `zz`) are dropped.

Completeness (`check_complete`, for the `entities` part the registry reads): the last line is a
complete JSON object. FtM lines have no trailer or count (the exports may or may not end with a
line break), so a file cut at a line boundary cannot be told from a whole one.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import pycountry

from assets.sanctions.countries import to_iso2
from assets.sanctions.identifiers import FTM_IDENTIFIER_PROPERTIES, VALIDATORS
from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
    empty,
)
from assets.sanctions.parsing import (
    IncompleteSnapshotError,
    Row,
    decode_utf8,
    frame,
    refuse_gzip,
    require_data,
    require_part,
    unique,
)

PARSER_VERSION = "opensanctions-ftm/1"
PARTS: tuple[str, ...] = ("entities",)
MAIN_PART = "entities"

Entity = dict[str, Any]

ENTITY_TYPES: dict[str, str] = {
    "Person": "individual",
    "Organization": "entity",
    "Company": "entity",
    "LegalEntity": "entity",
    "PublicBody": "entity",
    "Vessel": "vessel",
    "Airplane": "aircraft",
}
# FtM schemas that describe or link things and are never list entries themselves.
NON_TARGET_SCHEMAS = frozenset(
    {
        "Address",
        "Sanction",
        "Identification",
        "Passport",
        "Ownership",
        "Directorship",
        "Membership",
        "Employment",
        "Family",
        "Associate",
        "Representation",
        "Succession",
        "UnknownLink",
        "Occupancy",
        "Position",
        "Note",
        "Mention",
        "Payment",
        "Debt",
        "Similar",
        "Documentation",
    }
)
IDENTIFIER_PROPERTIES = FTM_IDENTIFIER_PROPERTIES
COUNTRY_PROPERTIES = ("country", "jurisdiction", "nationality", "citizenship")
DELTA_OPS = ("ADD", "MOD", "DEL")
DELTA_SCHEMA: dict[str, pl.DataType] = {
    "op": pl.String(),
    "entry_id": pl.String(),
    "entity_json": pl.String(),
}
SIMPLE_CSV_REQUIRED = ("id", "schema", "name")

_FULL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T.*)?$")
_RU_TAX_NUMBER = re.compile(r"^(?:\d{10}|\d{12})$")


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based line in the file
    entity: Entity


# --- public API -----------------------------------------------------------------------------


def check_complete(parts: Mapping[str, bytes]) -> None:
    """The last non-blank line of `entities` is a whole JSON object (not cut mid-line)."""
    data = require_part(parts, MAIN_PART)
    require_data(MAIN_PART, data)
    lines = data.rstrip(b" \t\r\n").split(b"\n")
    try:
        last = json.loads(decode_utf8(lines[-1]))
    except (json.JSONDecodeError, SnapshotFormatError):
        last = None
    if not isinstance(last, dict):
        raise IncompleteSnapshotError(
            f"part {MAIN_PART}: the last line ({len(lines)}) is not a complete JSON object: "
            "the file is cut mid-line"
        )


def parse(parts: Mapping[str, bytes]) -> ParsedList:
    """One OpenSanctions snapshot (part `entities`, FtM JSON lines) in the list model.

    Refuses a file cut mid-line (`check_complete`) before reading it.
    """
    check_complete(parts)
    return parse_entities(parts[MAIN_PART])


def parse_entities(data: bytes) -> ParsedList:
    """An FtM entities file (one JSON object per line) in the list model, unchecked."""
    lines = [_Line(number, _entity(obj, number)) for number, obj in _json_lines(data)]
    if not lines:
        raise SnapshotFormatError("empty input: the file holds no entities")
    return _to_model(lines)


def parse_simple_csv(data: bytes) -> ParsedList:
    """An OpenSanctions targets.simple.csv export in the list model.

    Multi-valued cells are themselves `;`-separated CSV. The export gives no alias quality, no
    identifier labels (scheme `OTHER`, validity null) and no listing date (`first_seen` is when
    OpenSanctions first saw the entity); `sanctions` texts become remarks and `program_ids`,
    when the column exists, the programs.
    """
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        missing = [name for name in SIMPLE_CSV_REQUIRED if name not in header]
        if missing:
            raise SnapshotFormatError(
                f"header lacks {missing} (starts {header[:3]!r}): not a targets.simple CSV"
            )
        records: list[tuple[int, dict[str, str]]] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise SnapshotFormatError(
                    f"line {reader.line_num} has {len(record)} fields, the header has {len(header)}"
                )
            records.append((len(records) + 1, dict(zip(header, record, strict=True))))
    except csv.Error as exc:
        raise SnapshotFormatError(f"malformed CSV at line {reader.line_num}: {exc}") from exc
    if not records:
        raise SnapshotFormatError("the file has a header but no records")

    entries: list[Row] = []
    aliases: list[Row] = []
    identifiers: list[Row] = []
    addresses: list[Row] = []
    seen: set[str] = set()
    for number, row in records:
        entry_id = row["id"].strip()
        name = row["name"].strip()
        if not entry_id or not name:
            raise SnapshotFormatError(f"record {number} has an empty id or name")
        if entry_id in seen:
            raise SnapshotFormatError(f"record {number}: id {entry_id} appears twice")
        seen.add(entry_id)
        programs = _cell_values(row.get("program_ids", ""))
        entries.append(
            {
                "entry_id": entry_id,
                "entity_type": ENTITY_TYPES.get(row["schema"].strip(), "unknown"),
                "name": name,
                "programs": sorted(set(programs)),
                "countries": _countries(_cell_values(row.get("countries", ""))),
                "listing_date": None,
                "remarks": "\n".join(_cell_values(row.get("sanctions", ""))) or None,
                "source_row_number": number,
            }
        )
        for alias in unique(_cell_values(row.get("aliases", ""))):
            if alias != name:
                aliases.append(_alias(entry_id, alias, "aka", None))
        for value in unique(_cell_values(row.get("identifiers", ""))):
            identifiers.append(_identifier(entry_id, "OTHER", value))
        for line in unique(_cell_values(row.get("addresses", ""))):
            addresses.append(_address_row(entry_id, line, None, None))
    return ParsedList(
        entries=frame(entries, ENTRY_SCHEMA),
        aliases=frame(aliases, ALIAS_SCHEMA),
        identifiers=frame(identifiers, IDENTIFIER_SCHEMA),
        addresses=frame(addresses, ADDRESS_SCHEMA),
    )


def parse_delta(data: bytes) -> pl.DataFrame:
    """One OpenSanctions delta file as (`op`, `entry_id`, `entity_json`) rows in file order.

    An empty file is a valid delta with no operations.
    """
    rows = [
        {
            "op": op,
            "entry_id": entity["id"],
            "entity_json": json.dumps(entity, ensure_ascii=False, sort_keys=True),
        }
        for _, op, entity in _delta_ops(data)
    ]
    return pl.DataFrame(rows, schema=DELTA_SCHEMA) if rows else empty(DELTA_SCHEMA)


def delta_versions(index: bytes) -> list[str]:
    """The versions of a `delta.json` index (`{"versions": {version: url}}`), oldest first."""
    try:
        document = json.loads(_decode(index))
    except json.JSONDecodeError as exc:
        raise SnapshotFormatError(f"delta index is not JSON: {exc}") from exc
    versions = document.get("versions") if isinstance(document, dict) else None
    if not isinstance(versions, dict):
        raise SnapshotFormatError("delta index has no `versions` object")
    return sorted(str(version) for version in versions)


def apply_deltas(base: ParsedList | None, delta_files: list[bytes]) -> ParsedList:
    """`base` (or nothing) with the delta files applied in order.

    ADD and MOD replace the entity with the one given, DEL removes it (a DEL for an unknown id
    does nothing). Every touched id loses its base rows; the final state of the touched
    entities is then parsed together, so a `Sanction` or `Address` entity in the deltas links
    to targets in the deltas, not to untouched base entries. Entries from a delta keep the line
    number of their last operation in its file as `source_row_number`.
    """
    touched: dict[str, _Line | None] = {}
    for data in delta_files:
        for number, op, entity in _delta_ops(data):
            touched.pop(entity["id"], None)
            touched[entity["id"]] = None if op == "DEL" else _Line(number, entity)
    alive = [line for line in touched.values() if line is not None]
    changed = _to_model(alive) if alive else None
    if base is None:
        return changed or _empty_list()

    keep = ~pl.col("entry_id").is_in(list(touched))
    frames = [base.entries, base.aliases, base.identifiers, base.addresses]
    kept = [frame.filter(keep) for frame in frames]
    if changed is not None:
        new = [changed.entries, changed.aliases, changed.identifiers, changed.addresses]
        kept = [pl.concat([old, add]) for old, add in zip(kept, new, strict=True)]
    return ParsedList(entries=kept[0], aliases=kept[1], identifiers=kept[2], addresses=kept[3])


# --- reading --------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    refuse_gzip(data)
    return decode_utf8(data)


def _json_lines(data: bytes) -> list[tuple[int, Any]]:
    """(line number, decoded object) for every non-blank line."""
    found: list[tuple[int, Any]] = []
    # Split on line feeds only: `splitlines` also breaks at U+2028 and other characters that
    # JSON strings may hold unescaped.
    for number, line in enumerate(_decode(data).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            found.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise SnapshotFormatError(f"line {number} is not valid JSON: {exc.msg}") from exc
    return found


def _entity(obj: Any, number: int, *, need_schema: bool = True) -> Entity:
    if not isinstance(obj, dict):
        raise SnapshotFormatError(f"line {number} is not a JSON object")
    if not isinstance(obj.get("id"), str) or not obj["id"].strip():
        raise SnapshotFormatError(f"line {number}: entity has no `id`")
    if need_schema and not isinstance(obj.get("schema"), str):
        raise SnapshotFormatError(f"line {number}: entity {obj['id']} has no `schema`")
    properties = obj.get("properties", {})
    if not isinstance(properties, dict):
        raise SnapshotFormatError(f"line {number}: entity {obj['id']} has bad `properties`")
    return obj


def _delta_ops(data: bytes) -> list[tuple[int, str, Entity]]:
    ops: list[tuple[int, str, Entity]] = []
    for number, obj in _json_lines(data):
        op = obj.get("op") if isinstance(obj, dict) else None
        if op not in DELTA_OPS:
            raise SnapshotFormatError(f"line {number}: delta op {op!r} is not one of {DELTA_OPS}")
        entity = _entity(obj.get("entity"), number, need_schema=op != "DEL")
        ops.append((number, op, entity))
    return ops


def _values(entity: Entity, prop: str) -> list[str]:
    """The non-empty, trimmed values of one property, in the order given."""
    raw = entity.get("properties", {}).get(prop, [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise SnapshotFormatError(f"entity {entity['id']}: property {prop} is not a list")
    return [value.strip() for value in raw if isinstance(value, str) and value.strip()]


def _cell_values(cell: str) -> list[str]:
    """The values of one multi-valued targets.simple cell (`;`-separated CSV)."""
    if not cell.strip():
        return []
    row = next(csv.reader([cell], delimiter=";"), [])
    return [value.strip() for value in row if value.strip()]


# --- to the model ---------------------------------------------------------------------------


def _is_entry(entity: Entity) -> bool:
    return entity["schema"] not in NON_TARGET_SCHEMAS and entity.get("target") is not False


def _to_model(lines: list[_Line]) -> ParsedList:
    by_id: dict[str, Entity] = {}
    for line in lines:
        entity = line.entity
        if entity["id"] in by_id:
            raise SnapshotFormatError(f"line {line.number}: entity id {entity['id']} repeats")
        by_id[entity["id"]] = entity
    # A link may name an entity by one of its `referents` (the ids it was merged from).
    for line in lines:
        for referent in line.entity.get("referents") or []:
            if isinstance(referent, str):
                by_id.setdefault(referent, line.entity)

    sanctions: dict[str, list[Entity]] = {}
    for line in lines:
        if line.entity["schema"] == "Sanction":
            for target in _values(line.entity, "entity"):
                sanctions.setdefault(target, []).append(line.entity)
    identifications: dict[str, list[Entity]] = {}
    for line in lines:
        if line.entity["schema"] in ("Identification", "Passport"):
            for holder in _values(line.entity, "holder"):
                identifications.setdefault(holder, []).append(line.entity)

    entries: list[Row] = []
    aliases: list[Row] = []
    identifiers: list[Row] = []
    addresses: list[Row] = []
    for line in lines:
        entity = line.entity
        if not _is_entry(entity):
            continue
        entry_id = entity["id"]
        linked = sanctions.get(entry_id, [])
        names = _values(entity, "name")
        caption = entity.get("caption")
        name = caption.strip() if isinstance(caption, str) and caption.strip() else None
        name = name or (names[0] if names else None)
        if name is None:
            raise SnapshotFormatError(f"line {line.number}: entity {entry_id} has no name")
        countries = _countries(v for prop in COUNTRY_PROPERTIES for v in _values(entity, prop))
        remarks = unique([*_values(entity, "notes"), *_values(entity, "summary")])
        entries.append(
            {
                "entry_id": entry_id,
                "entity_type": ENTITY_TYPES.get(entity["schema"], "unknown"),
                "name": name,
                "programs": sorted(set(_programs(entity, linked))),
                "countries": countries,
                "listing_date": _listing_date(entity, linked),
                "remarks": "\n".join(remarks) or None,
                "source_row_number": line.number,
            }
        )
        seen_alias: set[tuple[str, str, str | None]] = set()
        for prop, kind, quality in (
            ("name", "aka", "strong"),
            ("alias", "aka", "strong"),
            ("weakAlias", "aka", "weak"),
            ("previousName", "fka", None),
        ):
            for alias in _values(entity, prop):
                key = (alias, kind, quality)
                if alias != name and key not in seen_alias:
                    seen_alias.add(key)
                    aliases.append(_alias(entry_id, alias, kind, quality))
        identifiers += _entity_identifiers(entity, countries, identifications.get(entry_id, []))
        addresses += _entity_addresses(entity, by_id)
    return ParsedList(
        entries=frame(entries, ENTRY_SCHEMA),
        aliases=frame(aliases, ALIAS_SCHEMA),
        identifiers=frame(identifiers, IDENTIFIER_SCHEMA),
        addresses=frame(addresses, ADDRESS_SCHEMA),
    )


def _programs(entity: Entity, linked: list[Entity]) -> list[str]:
    found: list[str] = []
    for source in (entity, *linked):
        found += _values(source, "programId") or _values(source, "program")
    return found


def _listing_date(entity: Entity, linked: list[Entity]) -> date | None:
    for candidates in (
        [v for s in linked for prop in ("listingDate", "startDate") for v in _values(s, prop)],
        [*_values(entity, "listingDate"), *_values(entity, "startDate")],
        _values(entity, "createdAt"),
    ):
        dates = [d for d in (_full_date(value) for value in candidates) if d is not None]
        if dates:
            return min(dates)
    return None


def _full_date(text: str) -> date | None:
    match = _FULL_DATE.match(text)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _countries(codes: Iterable[str]) -> list[str]:
    return sorted({iso for iso in (_iso2(code) for code in codes) if iso})


def _iso2(code: str) -> str | None:
    """ISO alpha-2 for an FtM country code (`ru`, `ua-cri`); None for `suhh`, `zz`, ..."""
    head = code.strip().split("-", 1)[0].upper()
    if head == "XK":
        return head
    if len(head) == 2 and pycountry.countries.get(alpha_2=head) is not None:
        return head
    return None


def _entity_identifiers(entity: Entity, countries: list[str], documents: list[Entity]) -> list[Row]:
    found: dict[tuple[str, str], str | None] = {}
    for prop, generic in IDENTIFIER_PROPERTIES.items():
        for value in _values(entity, prop):
            scheme = generic
            if generic == "TAX_ID" and "RU" in countries and _RU_TAX_NUMBER.match(value):
                scheme = "RU_INN"
            elif generic == "IMO" and entity["schema"] != "Vessel":
                scheme = "IMO_COMPANY"  # IMO company number: no ship check digit
            found.setdefault((scheme, value), None)
    for document in documents:
        scheme = "PASSPORT" if document["schema"] == "Passport" else "OTHER"
        country = next(iter(_values(document, "country")), None)
        for value in _values(document, "number") or _values(document, "passportNumber"):
            found.setdefault((scheme, value), country.upper() if country else None)
    return [
        _identifier(entity["id"], scheme, value, country)
        for (scheme, value), country in found.items()
    ]


def _entity_addresses(entity: Entity, by_id: dict[str, Entity]) -> list[Row]:
    found: dict[tuple[str, str | None, str | None], None] = {}
    for line in _values(entity, "address"):
        found[(line, None, to_iso2(line.rsplit(",", 1)[-1]))] = None
    for ref in _values(entity, "addressEntity"):
        address = by_id.get(ref)
        if address is None or address["schema"] != "Address":
            continue
        caption = address.get("caption")
        full = next(iter(_values(address, "full")), None) or (
            caption.strip() if isinstance(caption, str) else None
        )
        if not full:
            continue
        city = next(iter(_values(address, "city")), None)
        country = next(iter(_values(address, "country")), None)
        found[(full, city, _iso2(country) if country else None)] = None
    return [_address_row(entity["id"], line, city, country) for line, city, country in found]


def _alias(entry_id: str, alias: str, kind: str, quality: str | None) -> Row:
    return {"entry_id": entry_id, "alias": alias, "alias_type": kind, "quality": quality}


def _identifier(entry_id: str, scheme: str, value: str, country: str | None = None) -> Row:
    validator = VALIDATORS.get(scheme)
    return {
        "entry_id": entry_id,
        "scheme": scheme,
        "value": value,
        "country": country,
        "is_valid": validator(value) if validator is not None else None,
    }


def _address_row(entry_id: str, line: str, city: str | None, country: str | None) -> Row:
    return {"entry_id": entry_id, "address": line, "city": city, "country": country}


def _empty_list() -> ParsedList:
    return ParsedList(
        entries=empty(ENTRY_SCHEMA),
        aliases=empty(ALIAS_SCHEMA),
        identifiers=empty(IDENTIFIER_SCHEMA),
        addresses=empty(ADDRESS_SCHEMA),
    )
