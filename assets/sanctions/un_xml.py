"""Parser for the UN Security Council consolidated sanctions list (XML).

The root `CONSOLIDATED_LIST[@dateGenerated]` holds `INDIVIDUALS/INDIVIDUAL` and `ENTITIES/ENTITY`;
`REFERENCE_NUMBER` (e.g. `KPi.033`) is the stable key. Every text value is whitespace-normalized
(trimmed, inner runs of whitespace collapsed to one space, because the publisher re-wraps long
values with indentation that changes between releases) and empty values become null. Bump
`PARSER_VERSION` whenever the output changes for the same input bytes.

Completeness (`check_complete`): the root carries `dateGenerated` (a date), both sections are
present, and the file ends with the closing `</CONSOLIDATED_LIST>`. The list has no record
count, so a file cut at a record boundary and closed again cannot be told from a whole one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from xml.etree.ElementTree import Element

from stdnum import imo

from assets.common.xml import parse_root
from assets.sanctions.countries import to_iso2
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
    clean,
    describe_value,
    frame,
    read_date,
    require_data,
    require_elements,
    require_part,
    require_xml_root,
)

PARSER_VERSION = "un-consolidated-xml/1"
PARTS: tuple[str, ...] = ("consolidated",)
MAIN_PART = "consolidated"

ROOT_TAG = "CONSOLIDATED_LIST"
# Section tag -> (record tag, entity_type, prefix of the record's child tags).
SECTIONS: dict[str, tuple[str, str, str]] = {
    "INDIVIDUALS": ("INDIVIDUAL", "individual", "INDIVIDUAL"),
    "ENTITIES": ("ENTITY", "entity", "ENTITY"),
}
NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
ADDRESS_PARTS = ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")
ORIGINAL_SCRIPT = "original_script"

# QUALITY (casefolded) -> (alias_type, quality). Older releases write the alias kind there.
ALIAS_QUALITIES: dict[str, tuple[str, str | None]] = {
    "": ("aka", None),
    "good": ("aka", "strong"),
    "a.k.a.": ("aka", "strong"),
    "f.k.a.": ("fka", "strong"),
    "low": ("aka", "weak"),
}
# TYPE_OF_DOCUMENT (casefolded) -> scheme; other types become upper-case with underscores.
DOCUMENT_SCHEMES: dict[str, str] = {
    "passport": "PASSPORT",
    "numéro de passeport": "PASSPORT",
    "número de pasaporte": "PASSPORT",
    "national identification number": "NATIONAL_ID",
    "national identification no.": "NATIONAL_ID",
}
# UN spellings (casefolded) that the shared pycountry lookup does not resolve. Qualified values
# ("Sudan/South Sudan", "Possibly Ethiopian", "USSR (until 1991)", ...) are left unmapped.
UN_COUNTRIES: dict[str, str] = {
    "democratic people's republic of korea": "KP",
    "rpdc": "KP",
    "iran (islamic republic of)": "IR",
    "syrian arab republic": "SY",
    "libyan arab jamahiriya": "LY",
    "hong kong special administrative region": "HK",
    "state of palestine": "PS",
    "palestinian territories": "PS",
    "the netherlands": "NL",
    "afghan": "AF",
    "algerian": "DZ",
    "german": "DE",
    "kuwaiti": "KW",
    "moroccan": "MA",
    "pakistani": "PK",
    "saudi arabian": "SA",
    "somali": "SO",
    "tunisian": "TN",
    "yemeni": "YE",
}
IDENTIFIER_VALIDATORS: dict[str, Callable[[str], bool]] = {"IMO": imo.is_valid}

# "IMO 5434358", "IMO number: 5982254", "(IMO) Number: 1790183".
_IMO = re.compile(r"\bIMO\)?(?:\s+(?i:number|no\.?))?\s*:?\s*(\d{7})\b")
_DATE = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:T[0-9:.]+)?(?:Z|[+-]\d{2}:\d{2})?$"
)


def check_complete(parts: Mapping[str, bytes]) -> None:
    """Root `CONSOLIDATED_LIST` with a `dateGenerated` date, both sections, closed at the end."""
    data = require_part(parts, MAIN_PART)
    require_data(MAIN_PART, data)
    generated = require_xml_root(MAIN_PART, data, ROOT_TAG, "dateGenerated")
    if read_date(generated, (_DATE,)) is None:
        raise IncompleteSnapshotError(
            f"part {MAIN_PART}: dateGenerated {describe_value(generated)} is not a date"
        )
    require_elements(MAIN_PART, data, ROOT_TAG, SECTIONS)


def parse(parts: Mapping[str, bytes]) -> ParsedList:
    """One UN consolidated list snapshot (part `consolidated`) in the normalized model.

    Raises `IncompleteSnapshotError` when `check_complete` fails, and `SnapshotFormatError` on
    non-XML, a DTD or entity declaration, a record without or with a duplicate
    `REFERENCE_NUMBER`, an unparseable `LISTED_ON`, or an alias `QUALITY` not in
    `ALIAS_QUALITIES`.
    """
    check_complete(parts)
    root = _read_root(parts[MAIN_PART])
    entries: list[tuple[object, ...]] = []
    aliases: list[tuple[object, ...]] = []
    identifiers: list[tuple[object, ...]] = []
    addresses: list[tuple[object, ...]] = []
    seen: dict[str, int] = {}
    for row_number, (record, entity_type, prefix) in enumerate(_records(root), start=1):
        entry_id = _text(record.find("REFERENCE_NUMBER"))
        if entry_id is None:
            raise SnapshotFormatError(
                f"{record.tag} #{row_number} (DATAID {_text(record.find('DATAID'))}) "
                "has no REFERENCE_NUMBER"
            )
        if entry_id in seen:
            raise SnapshotFormatError(
                f"duplicate REFERENCE_NUMBER {entry_id!r} (records #{seen[entry_id]} and "
                f"#{row_number})"
            )
        seen[entry_id] = row_number

        remarks = _text(record.find("COMMENTS1"))
        entries.append(
            (
                entry_id,
                entity_type,
                _name(record, entity_type),
                sorted(set(_texts(record.findall("UN_LIST_TYPE")))),
                _countries(record, prefix),
                _listing_date(record, entry_id),
                remarks,
                row_number,
            )
        )
        aliases.extend((entry_id, *alias) for alias in _aliases(record, prefix, entry_id))
        identifiers.extend((entry_id, *ident) for ident in _identifiers(record, prefix, remarks))
        addresses.extend((entry_id, *address) for address in _addresses(record, prefix))

    return ParsedList(
        entries=frame(entries, ENTRY_SCHEMA),
        aliases=frame(aliases, ALIAS_SCHEMA),
        identifiers=frame(identifiers, IDENTIFIER_SCHEMA),
        addresses=frame(addresses, ADDRESS_SCHEMA),
    )


def generated_on(data: bytes) -> date | None:
    """The list's as-of date: the date part of the root's `dateGenerated`, None when absent."""
    value = clean(_read_root(data).get("dateGenerated"))
    if value is None:
        return None
    return _to_date(value, "dateGenerated")


def country_code(name: str | None) -> str | None:
    """ISO alpha-2 code for a country as the UN list writes it, or None when it cannot be told."""
    if name is None:
        return None
    key = name.replace("’", "'").casefold()
    if key in UN_COUNTRIES:
        return UN_COUNTRIES[key]
    # The list writes names, never codes: "na" (not available) must not become Namibia.
    if len(name) <= 3:
        return None
    return to_iso2(name)


def _read_root(data: bytes) -> Element:
    return parse_root(data, root_tag=ROOT_TAG, error=SnapshotFormatError, source="the UN list's")


def _records(root: Element) -> Iterable[tuple[Element, str, str]]:
    """Every INDIVIDUAL and ENTITY element in document order, with its entity type and prefix."""
    sections = [section for section in root if section.tag in SECTIONS]
    if not sections:
        raise SnapshotFormatError(f"<{ROOT_TAG}> has neither {' nor '.join(SECTIONS)}")
    for section in sections:
        record_tag, entity_type, prefix = SECTIONS[section.tag]
        for record in section:
            if record.tag != record_tag:
                raise SnapshotFormatError(
                    f"<{section.tag}> contains <{record.tag}>, expected only <{record_tag}>"
                )
            yield record, entity_type, prefix


def _name(record: Element, entity_type: str) -> str | None:
    if entity_type == "entity":
        return _text(record.find("FIRST_NAME"))
    parts = [_text(record.find(tag)) for tag in NAME_PARTS]
    return " ".join(part for part in parts if part) or None


def _countries(record: Element, prefix: str) -> list[str]:
    paths = (
        "NATIONALITY/VALUE",
        f"{prefix}_ADDRESS/COUNTRY",
        f"{prefix}_PLACE_OF_BIRTH/COUNTRY",
        f"{prefix}_ALIAS/COUNTRY_OF_BIRTH",
        f"{prefix}_DOCUMENT/ISSUING_COUNTRY",
        f"{prefix}_DOCUMENT/COUNTRY_OF_ISSUE",
    )
    codes = {country_code(value) for path in paths for value in _texts(record.findall(path))}
    return sorted(code for code in codes if code)


def _listing_date(record: Element, entry_id: str) -> date | None:
    value = _text(record.find("LISTED_ON"))
    return None if value is None else _to_date(value, f"{entry_id}: LISTED_ON")


def _aliases(record: Element, prefix: str, entry_id: str) -> Iterable[tuple[str, str, str | None]]:
    for child in record:
        if child.tag == "NAME_ORIGINAL_SCRIPT":
            name = _text(child)
            if name:
                yield name, ORIGINAL_SCRIPT, "strong"
        elif child.tag == f"{prefix}_ALIAS":
            name = _text(child.find("ALIAS_NAME"))
            if name is None:
                continue
            quality = _text(child.find("QUALITY")) or ""
            if quality.casefold() not in ALIAS_QUALITIES:
                raise SnapshotFormatError(
                    f"{entry_id}: alias {name!r} has unknown QUALITY {quality!r}; "
                    f"known: {', '.join(repr(q) for q in ALIAS_QUALITIES)}"
                )
            yield name, *ALIAS_QUALITIES[quality.casefold()]


def _identifiers(
    record: Element, prefix: str, remarks: str | None
) -> Iterable[tuple[str, str, str | None, bool | None]]:
    for document in record.findall(f"{prefix}_DOCUMENT"):
        value = _text(document.find("NUMBER"))
        if value is None:
            continue
        kind = _text(document.find("TYPE_OF_DOCUMENT")) or _text(document.find("TYPE_OF_DOCUMENT2"))
        country = _text(document.find("ISSUING_COUNTRY")) or _text(
            document.find("COUNTRY_OF_ISSUE")
        )
        yield _document_scheme(kind), value, country, None
    for number in dict.fromkeys(_IMO.findall(remarks or "")):
        yield "IMO", number, None, IDENTIFIER_VALIDATORS["IMO"](number)


def _document_scheme(kind: str | None) -> str:
    if kind is None:
        return "UNKNOWN"
    known = DOCUMENT_SCHEMES.get(kind.casefold())
    return known or re.sub(r"\W+", "_", kind).strip("_").upper()


def _addresses(record: Element, prefix: str) -> Iterable[tuple[str, str | None, str | None]]:
    for address in record.findall(f"{prefix}_ADDRESS"):
        parts = {part: _text(address.find(part)) for part in ADDRESS_PARTS}
        line = ", ".join(part for part in parts.values() if part)
        if not line:
            continue
        country = parts["COUNTRY"]
        yield line, parts["CITY"], country_code(country) or country


def _to_date(value: str, what: str) -> date:
    found = read_date(value, (_DATE,))
    if found is None:
        raise SnapshotFormatError(f"{what} {value!r} is not a date")
    return found


def _text(element: Element | None) -> str | None:
    return None if element is None else clean(element.text)


def _texts(elements: Iterable[Element]) -> list[str]:
    return [value for value in (_text(e) for e in elements) if value is not None]
