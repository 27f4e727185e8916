"""Parser for the EU Financial Sanctions Files (FSF) consolidated list, XML and CSV layouts.

XML: `<export>` (namespace `http://eu.europa.ec/fpi/fsd/export`) of `<sanctionEntity logicalId
euReferenceNumber designationDate unitedNationId>` with `<remark>`, `<regulation programme>`,
`<subjectType code classificationCode>`, `<nameAlias wholeName ... strong>`, `<citizenship>`,
`<birthdate>`, `<address>` and `<identification identificationTypeCode number countryIso2Code>`.
CSV: `;`-separated, one row per sub-record, entity columns (`Entity_LogicalId`, ...) repeated on
each row, sub-record columns prefixed `NameAlias_`, `Address_`, `Identification_`, ...
Layout from public parsers (no real file was at hand): opensanctions/opensanctions
`zavod/zavod/shed/fsf.py` and `datasets/eu/fsf/eu_fsf.yml` (elements, attributes, type codes;
`euReferenceNumber` can be missing, `logicalId` is then the key), moov-io/watchman
`pkg/csl_eu/csl.go` and `reader_eu.go` (CSV columns, `;`), and a public generateDS binding of
the FSF `schema_1_1.xsd` (attribute names).

The public CSV column lists show no `NameAlias_Strong`: without that column CSV aliases get a
null quality (prefer the XML for weak aliases); with it both layouts give the same `ParsedList`.

Completeness (`check_complete`): XML, the root `<export>` carries `generationDate` and the file
ends with the closing `</export>`; CSV, the `fileGenerationDate` column is present and holds one
date on every row, and the file ends with a line break (assumed from the publisher's CSV writer,
not verified on a real file). Neither layout has a record count: a CSV cut at a line boundary,
or an XML cut at an entity boundary and closed again, cannot be told from a whole file.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

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
    clean,
    decode_text,
    describe_value,
    frame,
    read_date,
    require_data,
    require_final_line_break,
    require_part,
    require_xml_root,
)

PARSER_VERSION = "eu-fsf/1"
PARTS: tuple[str, ...] = ("eu_fsf",)
MAIN_PART = "eu_fsf"

ROOT_TAG = "export"
ENTITY_TAG = "sanctionEntity"
LOGICAL_ID_PREFIX = "logicalId:"  # entry_id of an entity published without euReferenceNumber

SUBJECT_TYPES = {"person": "individual", "p": "individual", "enterprise": "entity", "e": "entity"}
# identificationTypeCode -> scheme; other codes become their upper-cased code.
IDENTIFICATION_SCHEMES = {
    "passport": "PASSPORT",
    "id": "NATIONAL_ID",
    "regnumber": "REGISTRATION_NUMBER",
    "fiscalcode": "TAX_ID",
    "tax": "TAX_ID",
    "taxid": "TAX_ID",
    "swiftbic": "SWIFT_BIC",
    "imo": "IMO",
    "ssn": "SSN",
}
UNKNOWN_COUNTRY_CODES = {"", "00"}
UNKNOWN_COUNTRY_NAMES = {"", "UNKNOWN"}

CSV_DELIMITER = ";"
CSV_REQUIRED = ("Entity_LogicalId", "Entity_EU_ReferenceNumber", "NameAlias_WholeName")
CSV_GENERATION_DATE = "fileGenerationDate"
XML_GENERATION_DATE = "generationDate"
# Entity columns that must agree on every row of one Entity_LogicalId.
CSV_ENTITY_COLUMNS = (
    "Entity_EU_ReferenceNumber",
    "Entity_UnitedNationId",
    "Entity_DesignationDate",
    "Entity_SubjectType",
    "Entity_SubjectType_ClassificationCode",
)

_ISO_DATE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:[T ].*)?$")
_DMY_DATE = re.compile(r"^(?P<day>\d{2})/(?P<month>\d{2})/(?P<year>\d{4})$")


@dataclass(frozen=True)
class _Name:
    logical_id: str
    whole: str
    first: str
    middle: str
    last: str
    language: str
    strong: str
    remark: str


@dataclass(frozen=True)
class _Identification:
    logical_id: str
    type_code: str
    type_description: str
    number: str
    latin_number: str
    country_code: str
    country_name: str
    remark: str


@dataclass(frozen=True)
class _Address:
    logical_id: str
    street: str
    po_box: str
    city: str
    zip_code: str
    region: str
    place: str
    country_code: str
    country_name: str


@dataclass(frozen=True)
class _Citizenship:
    logical_id: str
    country_code: str
    country_name: str


@dataclass
class _Entity:
    """One sanctionEntity as either layout carries it, before mapping to the model."""

    logical_id: str
    eu_reference: str
    un_id: str
    designation_date: str
    subject_code: str
    subject_class: str
    remarks: list[str] = field(default_factory=list)
    programmes: list[str] = field(default_factory=list)
    names: list[_Name] = field(default_factory=list)
    identifications: list[_Identification] = field(default_factory=list)
    addresses: list[_Address] = field(default_factory=list)
    citizenships: list[_Citizenship] = field(default_factory=list)


_Part = TypeVar("_Part", _Name, _Identification, _Address, _Citizenship)


def _add_part(items: list[_Part], item: _Part) -> None:
    """Append `item` unless one with its logicalId (or, lacking one, an equal one) is there."""
    key = item.logical_id
    if not any((key and other.logical_id == key) or other == item for other in items):
        items.append(item)


def is_xml(data: bytes) -> bool:
    """True for the XML export, False for the CSV one (the first character tells them apart)."""
    return data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<")


def check_complete(parts: Mapping[str, bytes]) -> None:
    """XML: `<export generationDate>` closed at the end; CSV: one `fileGenerationDate` date on
    every row and a line break at the end."""
    data = require_part(parts, MAIN_PART)
    require_data(MAIN_PART, data)
    if is_xml(data):
        stamp = require_xml_root(MAIN_PART, data, ROOT_TAG, XML_GENERATION_DATE)
        if _generation_date(stamp) is None:
            raise IncompleteSnapshotError(
                f"part {MAIN_PART}: {XML_GENERATION_DATE} {describe_value(stamp)} is not a date"
            )
        return
    require_final_line_break(MAIN_PART, data)
    reader = csv.reader(io.StringIO(decode_text(data), newline=""), delimiter=CSV_DELIMITER)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        if CSV_GENERATION_DATE not in header:
            raise IncompleteSnapshotError(
                f"part {MAIN_PART}: the header has no {CSV_GENERATION_DATE} column, which the "
                "publisher always writes"
            )
        column = header.index(CSV_GENERATION_DATE)
        stamps = {
            record[column].strip() if column < len(record) else ""
            for record in reader
            if any(cell.strip() for cell in record)
        }
    except csv.Error as exc:
        raise SnapshotFormatError(
            f"part {MAIN_PART}: malformed CSV at line {reader.line_num}: {exc}"
        ) from exc
    if len(stamps) > 1 or any(_generation_date(stamp) is None for stamp in stamps):
        shown = ", ".join(describe_value(stamp, 12) for stamp in sorted(stamps)[:3])
        raise IncompleteSnapshotError(
            f"part {MAIN_PART}: {CSV_GENERATION_DATE} must be one date on every row, found {shown}"
        )


def parse(parts: Mapping[str, bytes]) -> ParsedList:
    """One FSF snapshot (part `eu_fsf`, the XML or the CSV export) in the list model.

    Refuses an incomplete file (`check_complete`) before reading it.
    """
    check_complete(parts)
    data = parts[MAIN_PART]
    return parse_xml(data) if is_xml(data) else parse_csv(data)


def parse_xml(data: bytes) -> ParsedList:
    """An FSF XML export (`<export>` of `<sanctionEntity>`) in the list model, unchecked."""
    return _to_model(_read_xml(data))


def parse_csv(data: bytes) -> ParsedList:
    """An FSF CSV export (`;`-separated, one row per sub-record) in the list model, unchecked."""
    return _to_model(_read_csv(data))


def _generation_date(text: str) -> date | None:
    return read_date(text, (_ISO_DATE, _DMY_DATE))


# --- XML ------------------------------------------------------------------------------------


def _read_xml(data: bytes) -> list[_Entity]:
    if not data.strip():
        raise SnapshotFormatError("empty input: the file holds no records")
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SnapshotFormatError(
            f"XML with a DTD or entity declaration is refused ({type(exc).__name__})"
        ) from exc
    except ParseError as exc:
        raise SnapshotFormatError(f"malformed XML: {exc}") from exc
    if _local(root.tag) != ROOT_TAG:
        raise SnapshotFormatError(
            f"root element is <{_local(root.tag)}>, not <{ROOT_TAG}>: not an FSF XML export"
        )
    entities = [_xml_entity(child) for child in root if _local(child.tag) == ENTITY_TAG]
    if not entities:
        raise SnapshotFormatError(f"the export holds no <{ENTITY_TAG}> elements")
    return entities


def _xml_entity(element: Element) -> _Entity:
    subject = _child(element, "subjectType")
    entity = _Entity(
        logical_id=_attr(element, "logicalId"),
        eu_reference=_attr(element, "euReferenceNumber"),
        un_id=_attr(element, "unitedNationId"),
        designation_date=_attr(element, "designationDate"),
        subject_code=_attr(subject, "code") if subject is not None else "",
        subject_class=_attr(subject, "classificationCode") if subject is not None else "",
    )
    for child in element:
        tag = _local(child.tag)
        if tag == "remark":
            _add_text(entity.remarks, child.text)
        elif tag == "regulation":
            _add_text(entity.programmes, child.get("programme"))
        elif tag == "nameAlias":
            _add_part(entity.names, _xml_name(child))
        elif tag == "identification":
            _add_part(entity.identifications, _xml_identification(child))
        elif tag == "address":
            _add_part(entity.addresses, _xml_address(child))
        elif tag == "citizenship":
            citizenship = _Citizenship(
                _attr(child, "logicalId"),
                _attr(child, "countryIso2Code"),
                _attr(child, "countryDescription"),
            )
            _add_part(entity.citizenships, citizenship)
    return entity


def _xml_name(element: Element) -> _Name:
    return _Name(
        logical_id=_attr(element, "logicalId"),
        whole=_attr(element, "wholeName"),
        first=_attr(element, "firstName"),
        middle=_attr(element, "middleName"),
        last=_attr(element, "lastName"),
        language=_attr(element, "nameLanguage"),
        strong=_attr(element, "strong"),
        remark=_remarks(element),
    )


def _xml_identification(element: Element) -> _Identification:
    return _Identification(
        logical_id=_attr(element, "logicalId"),
        type_code=_attr(element, "identificationTypeCode"),
        type_description=_attr(element, "identificationTypeDescription"),
        number=_attr(element, "number"),
        latin_number=_attr(element, "latinNumber"),
        country_code=_attr(element, "countryIso2Code"),
        country_name=_attr(element, "countryDescription"),
        remark=_remarks(element),
    )


def _xml_address(element: Element) -> _Address:
    return _Address(
        logical_id=_attr(element, "logicalId"),
        street=_attr(element, "street"),
        po_box=_attr(element, "poBox"),
        city=_attr(element, "city"),
        zip_code=_attr(element, "zipCode"),
        region=_attr(element, "region"),
        place=_attr(element, "place"),
        country_code=_attr(element, "countryIso2Code"),
        country_name=_attr(element, "countryDescription"),
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element: Element, name: str) -> str:
    return clean(element.get(name)) or ""


def _child(element: Element, name: str) -> Element | None:
    return next((child for child in element if _local(child.tag) == name), None)


def _remarks(element: Element) -> str:
    texts: list[str] = []
    for child in element:
        if _local(child.tag) == "remark":
            _add_text(texts, child.text)
    return "\n".join(texts)


def _add_text(values: list[str], text: str | None) -> None:
    value = clean(text)
    if value and value not in values:
        values.append(value)


# --- CSV ------------------------------------------------------------------------------------


def _read_csv(data: bytes) -> list[_Entity]:
    if not data.strip():
        raise SnapshotFormatError("empty input: the file holds no records")
    reader = csv.reader(io.StringIO(decode_text(data), newline=""), delimiter=CSV_DELIMITER)
    entities: dict[str, _Entity] = {}
    try:
        header = [cell.strip() for cell in next(reader, [])]
        missing = [name for name in CSV_REQUIRED if name not in header]
        if missing:
            raise SnapshotFormatError(
                f"header lacks {missing} (starts {header[:3]!r}): not an FSF CSV export"
            )
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise SnapshotFormatError(
                    f"line {reader.line_num} has {len(record)} fields, the header has {len(header)}"
                )
            row = {name: clean(cell) or "" for name, cell in zip(header, record, strict=True)}
            _csv_row(entities, row, reader.line_num)
    except csv.Error as exc:
        raise SnapshotFormatError(f"malformed CSV at line {reader.line_num}: {exc}") from exc
    if not entities:
        raise SnapshotFormatError("the file has a header but no records")
    return list(entities.values())


def _csv_row(entities: dict[str, _Entity], row: dict[str, str], line: int) -> None:
    def get(name: str) -> str:
        return row.get(name, "")

    logical_id = get("Entity_LogicalId")
    if not logical_id:
        raise SnapshotFormatError(f"line {line} has an empty Entity_LogicalId")
    entity = entities.get(logical_id)
    if entity is None:
        entity = entities[logical_id] = _Entity(
            logical_id=logical_id,
            eu_reference=get("Entity_EU_ReferenceNumber"),
            un_id=get("Entity_UnitedNationId"),
            designation_date=get("Entity_DesignationDate"),
            subject_code=get("Entity_SubjectType"),
            subject_class=get("Entity_SubjectType_ClassificationCode"),
        )
    else:
        first = (
            entity.eu_reference,
            entity.un_id,
            entity.designation_date,
            entity.subject_code,
            entity.subject_class,
        )
        for column, before in zip(CSV_ENTITY_COLUMNS, first, strict=True):
            if get(column) != before:
                raise SnapshotFormatError(
                    f"line {line}: Entity_LogicalId {logical_id} has {column} {get(column)!r}, "
                    f"an earlier row has {before!r}"
                )
    _add_text(entity.remarks, get("Entity_Remark"))
    _add_text(entity.programmes, get("Entity_Regulation_Programme"))
    name = _Name(
        logical_id=get("NameAlias_LogicalId"),
        whole=get("NameAlias_WholeName"),
        first=get("NameAlias_FirstName"),
        middle=get("NameAlias_MiddleName"),
        last=get("NameAlias_LastName"),
        language=get("NameAlias_NameLanguage"),
        strong=get("NameAlias_Strong"),
        remark=get("NameAlias_Remark"),
    )
    if name.whole or name.first or name.last:
        _add_part(entity.names, name)
    identification = _Identification(
        logical_id=get("Identification_LogicalId"),
        type_code=get("Identification_TypeCode"),
        type_description=get("Identification_TypeDescription"),
        number=get("Identification_Number"),
        latin_number=get("Identification_LatinNumber"),
        country_code=get("Identification_CountryIso2Code"),
        country_name=get("Identification_CountryDescription"),
        remark=get("Identification_Remark"),
    )
    if identification.number or identification.latin_number:
        _add_part(entity.identifications, identification)
    address = _Address(
        logical_id=get("Address_LogicalId"),
        street=get("Address_Street"),
        po_box=get("Address_PoBox"),
        city=get("Address_City"),
        zip_code=get("Address_ZipCode"),
        region=get("Address_Region"),
        place=get("Address_Place"),
        country_code=get("Address_CountryIso2Code"),
        country_name=get("Address_CountryDescription"),
    )
    if any(getattr(address, f) for f in _Address.__dataclass_fields__ if f != "logical_id"):
        _add_part(entity.addresses, address)
    citizenship = _Citizenship(
        get("Citizenship_LogicalId"),
        get("Citizenship_CountryIso2Code"),
        get("Citizenship_CountryDescription"),
    )
    if citizenship.country_code or citizenship.country_name:
        _add_part(entity.citizenships, citizenship)


# --- to the model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    entry: Row
    aliases: tuple[Row, ...]
    identifiers: tuple[Row, ...]
    addresses: tuple[Row, ...]

    def content(self) -> tuple[object, ...]:
        """Everything but the position in the file, for comparing duplicates."""
        entry = {key: value for key, value in self.entry.items() if key != "source_row_number"}
        return (entry, self.aliases, self.identifiers, self.addresses)


def _to_model(entities: list[_Entity]) -> ParsedList:
    records: dict[str, _Record] = {}
    for ordinal, entity in enumerate(entities, start=1):
        record = _record(entity, ordinal)
        entry_id = str(record.entry["entry_id"])
        previous = records.get(entry_id)
        if previous is None:
            records[entry_id] = record
        elif previous.content() != record.content():
            raise SnapshotFormatError(
                f"entry id {entry_id} appears twice with different data "
                f"(entities {previous.entry['source_row_number']} and {ordinal})"
            )
    chosen = list(records.values())
    return ParsedList(
        entries=frame([r.entry for r in chosen], ENTRY_SCHEMA),
        aliases=frame([a for r in chosen for a in r.aliases], ALIAS_SCHEMA),
        identifiers=frame([i for r in chosen for i in r.identifiers], IDENTIFIER_SCHEMA),
        addresses=frame([a for r in chosen for a in r.addresses], ADDRESS_SCHEMA),
    )


def _record(entity: _Entity, ordinal: int) -> _Record:
    """One entity in the model; `source_row_number` is its position among the file's entities.

    The primary name is the first non-weak Latin-script alias (else the first non-weak, else the
    first); the other names become `aka` or `original_script` aliases.
    """
    if entity.eu_reference:
        entry_id = entity.eu_reference
    elif entity.logical_id:
        entry_id = LOGICAL_ID_PREFIX + entity.logical_id
    else:
        raise SnapshotFormatError(f"entity {ordinal} has neither euReferenceNumber nor logicalId")

    names = [(n, _name_text(n), _name_quality(entry_id, n)) for n in entity.names if _name_text(n)]
    if not names:
        raise SnapshotFormatError(f"entry {entry_id} has no nameAlias with a name")
    primary = next(
        (item for item in names if item[2] != "weak" and not _non_latin(item[1])),
        next((item for item in names if item[2] != "weak"), names[0]),
    )
    aliases: dict[tuple[str, str, str | None], None] = {}
    for item in names:
        _, text, quality = item
        if item is not primary and text != primary[1]:
            kind = "original_script" if _non_latin(text) else "aka"
            aliases[(text, kind, quality)] = None

    identifiers: dict[tuple[str, str], str | None] = {}
    if entity.un_id:
        identifiers[("UN_REFERENCE", entity.un_id)] = None
    for identification in entity.identifications:
        for scheme, value, country in _identifiers(identification):
            identifiers.setdefault((scheme, value), country)
    for remark in entity.remarks:
        for scheme, value in find_russian_ids(remark):
            identifiers.setdefault((scheme, value), None)

    addresses: dict[tuple[str, str | None, str | None], None] = {}
    for address in entity.addresses:
        line = _address_line(address)
        if line:
            code = _country(address.country_code, address.country_name)
            country = code or (
                None if _unknown_name(address.country_name) else address.country_name
            )
            addresses[(line, address.city or None, country)] = None

    countries = {
        code
        for code in (
            *(_country(c.country_code, c.country_name) for c in entity.citizenships),
            *(_country(a.country_code, a.country_name) for a in entity.addresses),
        )
        if code
    }
    entry: Row = {
        "entry_id": entry_id,
        "entity_type": _entity_type(entry_id, entity),
        "name": primary[1],
        "programs": sorted(set(entity.programmes)),
        "countries": sorted(countries),
        "listing_date": _date(entry_id, entity.designation_date),
        "remarks": "\n".join(entity.remarks) or None,
        "source_row_number": ordinal,
    }
    return _Record(
        entry=entry,
        aliases=tuple(
            {"entry_id": entry_id, "alias": text, "alias_type": kind, "quality": quality}
            for text, kind, quality in aliases
        ),
        identifiers=tuple(
            {
                "entry_id": entry_id,
                "scheme": scheme,
                "value": value,
                "country": country,
                "is_valid": check_digits(scheme, value),
            }
            for (scheme, value), country in identifiers.items()
        ),
        addresses=tuple(
            {"entry_id": entry_id, "address": line, "city": city, "country": country}
            for line, city, country in addresses
        ),
    )


def _name_text(name: _Name) -> str:
    return name.whole or " ".join(p for p in (name.first, name.middle, name.last) if p)


def _name_quality(entry_id: str, name: _Name) -> str | None:
    """`strong="false"` (or a remark saying low quality) -> weak; `strong="true"` -> strong."""
    if "low quality" in name.remark.lower():
        return "weak"
    strong = name.strong.lower()
    if strong in ("", "true", "false"):
        return {"": None, "true": "strong", "false": "weak"}[strong]
    raise SnapshotFormatError(f"entry {entry_id}: nameAlias strong={name.strong!r}")


def _non_latin(text: str) -> bool:
    """True when a letter of `text` is outside the Latin script (Cyrillic, Arabic, ...)."""
    return any(ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN") for ch in text)


def _identifiers(identification: _Identification) -> list[tuple[str, str, str | None]]:
    """The identifiers of one `identification`: Russian INN/OGRN where labelled, else generic."""
    value = identification.number or identification.latin_number
    code = identification.type_code.lower()
    country = _given_country(identification.country_code, identification.country_name)
    russian = find_russian_ids(value)
    if not russian and value.isdigit():
        scheme = _russian_scheme(identification, value)
        russian = [(scheme, value)] if scheme else []
    found = [(scheme, number, country) for scheme, number in russian]
    if not found:
        generic = IDENTIFICATION_SCHEMES.get(code, code.upper() or "OTHER")
        found.append((generic, value, country))
    found += [(s, v, country) for s, v in find_russian_ids(identification.remark)]
    return found


def _russian_scheme(identification: _Identification, value: str) -> str | None:
    """RU_INN / RU_OGRN for a bare number labelled by its remark, type, or type and country."""
    label = f"{identification.remark} {identification.type_description}"
    if re.search(r"OGRN|Principal State Registration", label):
        return "RU_OGRN"
    if re.search(r"(?<![A-Za-z])INN(?![A-Za-z])", label):
        return "RU_INN"
    russian = _country(identification.country_code, identification.country_name) == "RU"
    code = identification.type_code.lower()
    if russian and code in ("fiscalcode", "tax", "taxid") and len(value) in (10, 12):
        return "RU_INN"
    if russian and code == "regnumber" and len(value) in (13, 15):
        return "RU_OGRN"
    return None


def _address_line(address: _Address) -> str:
    country = "" if _unknown_name(address.country_name) else address.country_name
    parts = (
        address.street,
        address.po_box,
        address.city,
        address.zip_code,
        address.region,
        address.place,
        country,
    )
    return ", ".join(part for part in parts if part)


def _country(code: str, name: str) -> str | None:
    """ISO alpha-2 from countryIso2Code, else from countryDescription; None when unknown."""
    if code.upper() not in UNKNOWN_COUNTRY_CODES:
        found = to_iso2(code)
        if found:
            return found
    return None if _unknown_name(name) else to_iso2(name)


def _given_country(code: str, name: str) -> str | None:
    if code.upper() not in UNKNOWN_COUNTRY_CODES:
        return code.upper()
    return None if _unknown_name(name) else name


def _unknown_name(name: str) -> bool:
    return name.upper() in UNKNOWN_COUNTRY_NAMES


def _entity_type(entry_id: str, entity: _Entity) -> str:
    codes = [c for c in (entity.subject_code, entity.subject_class) if c]
    kinds = {SUBJECT_TYPES.get(c.lower()) for c in codes}
    if None in kinds:
        raise SnapshotFormatError(f"entry {entry_id}: unknown subject type {codes}")
    if len(kinds) > 1:
        raise SnapshotFormatError(f"entry {entry_id}: conflicting subject type {codes}")
    return str(kinds.pop()) if kinds else "unknown"


def _date(entry_id: str, text: str) -> date | None:
    if not text:
        return None
    found = read_date(text, (_ISO_DATE, _DMY_DATE))
    if found is None:
        raise SnapshotFormatError(f"entry {entry_id}: designation date {text!r} is not a date")
    return found
