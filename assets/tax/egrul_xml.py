"""Parser for FNS EGRUL open-data XML extracts (`ТипИнф="ЕГРЮЛ_ОТКР_СВЕД"`, ВерсФорм 4.0x).

The root `Файл` holds one `Документ` per record, each with one `СвЮЛ` (a legal entity). Daily
update files can hold several documents for one company, so `parse` returns one row per
document and `latest_per_company` reduces them to one row per INN.

Only company-level fields are read: identifiers, names, main OKVED, the region code of the
registered address, status and dates. Officers, founders, the sender (`ИдОтпр`), street-level
addresses and every other element are never read, so no natural person's name, personal INN
or address can reach the output. A `СвЮЛ` carrying a 12-digit (personal) INN or a 15-digit
OGRNIP, or an EGRIP (sole-proprietor) file, is refused.

Encoding: FNS files declare `encoding="windows-1251"` in the prolog. The declared encoding is
honoured; without a declaration a BOM decides, else strict UTF-8 is tried and windows-1251 (the
FNS encoding) is the fallback. Bump `PARSER_VERSION` whenever the output changes for the same
input bytes.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from datetime import date
from xml.etree.ElementTree import Element

import polars as pl
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

from assets.common.xml import parse_root

PARSER_VERSION = "egrul-xml/1"

ROOT_TAG = "Файл"
DOCUMENT_TAG = "Документ"
ENTITY_TAG = "СвЮЛ"
FNS_ENCODING = "windows-1251"
OKVED2_VERSION = "2014"

# Values of `status`. Anything else is the registry's own status text (`НаимСтатусЮЛ`, or the
# `КодСтатусЮЛ` code when the text is missing), e.g. code 105 "decision on the forthcoming
# exclusion from EGRUL (inactive legal entity)" or a bankruptcy status, kept verbatim.
ACTIVE = "active"  # no СвСтатус, СвРеорг or СвПрекрЮЛ: the entity operates normally
LIQUIDATED = "liquidated"  # СвПрекрЮЛ present: the entity has ceased (any way, incl. merger)
LIQUIDATING = "liquidating"  # a status whose text mentions liquidation ("ликвидац...")
REORGANIZING = "reorganizing"  # a status mentioning reorganization, or a СвРеорг block

SCHEMA: dict[str, pl.DataType] = {
    "inn": pl.String(),
    "ogrn": pl.String(),
    "kpp": pl.String(),
    "name_ru": pl.String(),
    "name_short_ru": pl.String(),
    "okved": pl.String(),
    "region_code": pl.String(),
    "status": pl.String(),
    "registered_on": pl.Date(),
    "record_date": pl.Date(),
    "inn_valid": pl.Boolean(),
    "ogrn_valid": pl.Boolean(),
    "source_row_number": pl.Int64(),
}
COLUMNS = tuple(SCHEMA)

_DECLARATION = re.compile(rb"^<\?xml\b[^>]*?\?>")
_DECLARED_ENCODING = re.compile(rb"""\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")
_TEXT_DECLARATION = re.compile(r"^<\?xml\b[^>]*?\?>")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class RegistryFormatError(ValueError):
    """The input is not a well-formed, safe EGRUL legal-entity extract."""


def parse(data: bytes) -> pl.DataFrame:
    """One EGRUL XML file as one row per `Документ`, in document order.

    `source_row_number` is the 1-based position of the `Документ` among the root's `Документ`
    children. `registered_on` is `СвЮЛ@ДатаОГРН`, `record_date` is `СвЮЛ@ДатаВып`. `okved` is
    the main code (`СвОКВЭДОсн@КодОКВЭД`) and is null unless it is an OKVED 2 code
    (`ПрВерсОКВЭД="2014"`). `region_code` comes from the FIAS address (`СвАдрЮЛФИАС/Регион`),
    then the KLADR address (`АдресРФ@КодРегион`), then `СвМНЮЛ/Регион`. `inn_valid` and
    `ogrn_valid` are the python-stdnum checks, null when the identifier is missing; invalid
    identifiers are kept. Status: see the module constants.

    Raises `RegistryFormatError` on empty or non-XML input, an undecodable or unknown encoding,
    a DTD or entity declaration, a root other than `Файл`, an EGRIP file, a document without
    `СвЮЛ`, a personal identifier on `СвЮЛ`, a malformed date, or a `КолДок` that disagrees
    with the number of documents.
    """
    root = _read_root(data)
    kind = _clean(root.get("ТипИнф"))
    if kind is not None and "ЕГРИП" in kind.upper():
        raise RegistryFormatError(
            f"ТипИнф={kind!r} is an EGRIP (sole proprietor) extract; only EGRUL is accepted"
        )
    documents = [child for child in root if child.tag == DOCUMENT_TAG]
    _check_declared_count(root, len(documents))
    rows = [_row(document, number) for number, document in enumerate(documents, start=1)]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def latest_per_company(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per INN: the record with the latest `record_date`.

    Ties on `record_date` go to the later document (higher `source_row_number`), then to the
    later position in `frame` (so frames from several files should be concatenated in file
    order). A null `record_date` counts as older than any date. Rows without an INN cannot be
    keyed and are dropped. The result is sorted by INN and keeps the columns of `frame`.
    """
    missing = [name for name in ("inn", "record_date", "source_row_number") if name not in frame]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}; pass the output of parse()")
    position = "__egrul_position"
    return (
        frame.with_row_index(position)
        .filter(pl.col("inn").is_not_null())
        .sort(["record_date", "source_row_number", position], nulls_last=False)
        .group_by("inn", maintain_order=True)
        .last()
        .sort("inn")
        .select(frame.columns)
    )


def _read_root(data: bytes) -> Element:
    if data[:2] == b"\x1f\x8b":
        raise RegistryFormatError("input is gzip-compressed; decompress it before parsing")
    if not data.strip():
        raise RegistryFormatError("empty input: the file holds no XML")
    return parse_root(_decode(data), root_tag=ROOT_TAG, error=RegistryFormatError, source="EGRUL")


def _decode(data: bytes) -> str:
    """The document as text, without its XML declaration (the bytes' encoding is resolved)."""
    encoding = _encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise RegistryFormatError(f"input is not valid {encoding}: {exc}") from exc
    return _TEXT_DECLARATION.sub("", text.lstrip("\ufeff"), count=1)


def _encoding(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    declaration = _DECLARATION.match(data)
    declared = _DECLARED_ENCODING.search(declaration.group(0)) if declaration else None
    if declared is not None:
        name = declared.group(1).decode("ascii")
        try:
            return codecs.lookup(name).name
        except LookupError as exc:
            raise RegistryFormatError(f"unknown declared encoding {name!r}") from exc
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return FNS_ENCODING
    return "utf-8"


def _check_declared_count(root: Element, found: int) -> None:
    declared = _clean(root.get("КолДок"))
    if declared is None:
        return
    if not declared.isdigit():
        raise RegistryFormatError(f"КолДок={declared!r} is not a number")
    if int(declared) != found:
        raise RegistryFormatError(f"КолДок={declared} but the file holds {found} <{DOCUMENT_TAG}>")


def _row(document: Element, number: int) -> tuple[object, ...]:
    entity = document.find(ENTITY_TAG)
    if entity is None:
        raise RegistryFormatError(f"<{DOCUMENT_TAG}> #{number} has no <{ENTITY_TAG}>")
    inn = _clean(entity.get("ИНН"))
    ogrn = _clean(entity.get("ОГРН"))
    if inn is not None and len(inn) == 12:
        raise RegistryFormatError(
            f"<{DOCUMENT_TAG}> #{number}: <{ENTITY_TAG}> carries a 12-digit (personal) INN"
        )
    if ogrn is not None and len(ogrn) == 15:
        raise RegistryFormatError(
            f"<{DOCUMENT_TAG}> #{number}: <{ENTITY_TAG}> carries a 15-digit OGRNIP"
        )
    names = entity.find("СвНаимЮЛ")
    short_name = names.find("СвНаимЮЛСокр") if names is not None else None
    return (
        inn,
        ogrn,
        _clean(entity.get("КПП")),
        _name(names, "НаимЮЛПолн"),
        _name(short_name, "НаимСокр") or _name(names, "НаимЮЛСокр"),
        _okved(entity),
        _region_code(entity),
        _status(entity),
        _date(entity.get("ДатаОГРН"), "ДатаОГРН", number),
        _date(entity.get("ДатаВып"), "ДатаВып", number),
        None if inn is None else ru_inn.is_valid(inn),
        None if ogrn is None else ru_ogrn.is_valid(ogrn),
        number,
    )


def _okved(entity: Element) -> str | None:
    main = entity.find("СвОКВЭД/СвОКВЭДОсн")
    if main is None or _clean(main.get("ПрВерсОКВЭД")) != OKVED2_VERSION:
        return None
    return _clean(main.get("КодОКВЭД"))


def _region_code(entity: Element) -> str | None:
    address = entity.find("СвАдресЮЛ")
    if address is None:
        return None
    candidates = (
        _text(address.find("СвАдрЮЛФИАС/Регион")),
        _clean(_get(address.find("АдресРФ"), "КодРегион")),
        _text(address.find("СвМНЮЛ/Регион")),
    )
    return next((code for code in candidates if code is not None), None)


def _status(entity: Element) -> str:
    if entity.find("СвПрекрЮЛ") is not None:
        return LIQUIDATED
    statuses = [_status_text(node) for node in _status_nodes(entity.findall("СвСтатус"))]
    given = [text for text in statuses if text is not None]
    folded = [text.casefold() for text in given]
    if any("ликвидац" in text for text in folded):
        return LIQUIDATING
    if entity.find("СвРеорг") is not None or any("реорганизац" in text for text in folded):
        return REORGANIZING
    if given:
        return "; ".join(dict.fromkeys(given))
    return ACTIVE


def _status_nodes(blocks: Iterable[Element]) -> Iterable[Element]:
    """The elements carrying КодСтатусЮЛ/НаимСтатусЮЛ: the nested `СвСтатус/СвСтатус` (4.0x)
    or, in older layouts, the outer `СвСтатус` itself."""
    for block in blocks:
        if block.get("КодСтатусЮЛ") is not None or block.get("НаимСтатусЮЛ") is not None:
            yield block
        yield from block.findall("СвСтатус")


def _status_text(node: Element) -> str | None:
    name = _name(node, "НаимСтатусЮЛ")
    return name if name is not None else _clean(node.get("КодСтатусЮЛ"))


def _date(value: str | None, attribute: str, number: int) -> date | None:
    cleaned = _clean(value)
    if cleaned is None:
        return None
    if not _DATE.match(cleaned):
        raise RegistryFormatError(
            f"<{DOCUMENT_TAG}> #{number}: {attribute}={cleaned!r} is not YYYY-MM-DD"
        )
    try:
        return date.fromisoformat(cleaned)
    except ValueError as exc:
        raise RegistryFormatError(
            f"<{DOCUMENT_TAG}> #{number}: {attribute}={cleaned!r} is not a date"
        ) from exc


def _get(element: Element | None, attribute: str) -> str | None:
    return None if element is None else element.get(attribute)


def _name(element: Element | None, attribute: str) -> str | None:
    """An attribute with inner whitespace runs collapsed; empty becomes null."""
    value = _get(element, attribute)
    if value is None:
        return None
    return " ".join(value.split()) or None


def _text(element: Element | None) -> str | None:
    return None if element is None else _clean(element.text)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None
