"""Parser for OpenSanctions' transcriptions of EU Official Journal sanctions annexes (CSV).

One row per designation as printed in an annex of Reg. 833/2014 or 269/2014. Consolidated files
have 45 columns starting `celex,recordId,...`; amendment files have 46, `amendedCelex,
amendmentCelex` in place of `celex`. UTF-8 with a header; dates as printed (`12.9.2014`, a few
`12 March 2022`).

Choices:
- `recordId` is the entry's number in its annex and restarts in every annex (and is blank in
  unnumbered annexes such as XIV), so `entry_id` is `{celex}/{annex}/{recordId}`, or
  `{celex}/{annex}/name:{name}` without a number. `celex` is the act the annex belongs to
  (`amendedCelex` in amendments), so an amendment's entries carry the ids of the consolidated
  list they change.
- `programs` are `programKey` and `{number}/{year} Annex {annex}` (`833/2014 Annex IV`): the annex
  says what the listing does (Annex IV: export-control end users; XLII: vessels).
- Identifier cells hold several values (`;`, `,` and ` / ` separate them) with labels as a
  suffix (`7704730655 (Tax ID/INN)`), a prefix (`INN: ...`, `Cr. No. ...`) or none. An `INN`
  or `OGRN` label gives `RU_INN`/`RU_OGRN` whatever the length. A generic tax label
  (`Tax ID/INN`, the EU's label for every country's tax number, `TIN`, ...), an unlabelled
  `taxNumber` or an unlabelled `registrationNumber` gives `RU_INN` for 10 or 12 digits and
  `RU_OGRN` (unlabelled only) for 13 or 15 digits when the entry looks Russian: a country given
  with the value is Russia, or else the entry's countries include RU or are unknown. A
  `Tax ID/INN` of 10 or 12 digits elsewhere is still `RU_INN` when it passes the INN check
  (Russian-issued numbers of entities in Crimea). Otherwise the label or the column decides
  (`TAX_ID`, `REGISTRATION_NUMBER`, `CN_USCC`, ...).
  An IMO number of anything but a vessel is an IMO company number (`IMO_COMPANY`, no check).
- Countries come from `country`, `nationality` (demonyms), `jurisdiction`, `flag` and the
  country named in each address; names that do not map to ISO alpha-2 are dropped.

Completeness (`check_complete`): the file ends with a line break (the transcriptions end every
record with CRLF), so a cut mid-line is refused even inside the last column. The format has no
trailer or record count: a file cut at a line boundary cannot be told from a whole one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

import pycountry
from stdnum.ru import inn

from assets.sanctions.countries import to_iso2
from assets.sanctions.identifiers import FTM_IDENTIFIER_PROPERTIES, VALIDATORS
from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
)
from assets.sanctions.parsing import (
    Row,
    decode_utf8,
    frame,
    read_date,
    refuse_gzip,
    require_data,
    require_final_line_break,
    require_part,
    unique,
)

PARSER_VERSION = "eu-journal-csv/1"
PARTS: tuple[str, ...] = ("consolidated",)
MAIN_PART = "consolidated"

CONSOLIDATED_COLUMN = "celex"
AMENDMENT_COLUMNS = ("amendedCelex", "amendmentCelex")
REQUIRED_COLUMNS = ("recordId", "programKey", "annex", "startDate", "schema", "name")

ENTITY_TYPES = {
    "Person": "individual",
    "Organization": "entity",
    "Company": "entity",
    "LegalEntity": "entity",
    "PublicBody": "entity",
    "Vessel": "vessel",
    "Airplane": "aircraft",
}
LIST_SEPARATOR = re.compile(r"\s*;\s*")
REMARK_COLUMNS = ("reason", "notes")
COUNTRY_COLUMNS = ("country", "nationality", "jurisdiction", "flag")

GENERIC_TAX = "GENERIC_TAX"  # a tax number of unstated country: RU_INN in a Russian context
EU_TAX_INN = "EU_TAX_INN"  # the EU's `Tax ID/INN`: also RU_INN elsewhere when the INN check passes
# Column -> scheme of a value without a label.
# The transcriptions use FollowTheMoney property names; VAT is not among their columns, and
# their taxNumber holds every country's tax numbers (narrowed to RU_INN where it is Russian).
IDENTIFIER_COLUMNS = {
    **{k: v for k, v in FTM_IDENTIFIER_PROPERTIES.items() if k != "vatCode"},
    "taxNumber": GENERIC_TAX,
}
# Columns whose unlabelled Russian-looking numbers are read as INN / OGRN.
RUSSIAN_SHAPE_COLUMNS = ("registrationNumber", "taxNumber")
# Normalized label (lower case, no dots) -> scheme; the first pattern that matches wins.
LABEL_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), scheme)
    for pattern, scheme in (
        (r"^tax id/inn$", EU_TAX_INN),
        (r"^(?:tin|tax id(?: no| number)?|tax(?:payer)? identification number)$", GENERIC_TAX),
        (r"ogrn|огрн|state registration|^srn\b", "RU_OGRN"),
        (r"(?<![a-z])inn(?![a-z])|инн", "RU_INN"),
        (r"kpp|кпп", "RU_KPP"),
        (r"okpo|окпо", "RU_OKPO"),
        (r"uscc|ussc|unified social credit", "CN_USCC"),
        (r"(?<![a-z])imo(?![a-z])", "IMO"),
        (r"passport", "PASSPORT"),
        (r"national id", "NATIONAL_ID"),
        (r"^(?:trn|gstin|gst no|pan|itin|vat(?: no| number)?)$", "TAX_ID"),
        (r"(?<![a-z])cr(?: no| number)?$|commercial regist", "COMMERCIAL_REGISTRY_NUMBER"),
        (r"cbls", "ECONOMIC_REGISTER_NUMBER"),
        (r"licen[cs]e", "TRADE_LICENSE_NUMBER"),
        (r"regist|company number|business number|^(?:brn|bin|cin|uen|crn|iec)$",
         "REGISTRATION_NUMBER"),
    )
)  # fmt: skip
DIGIT_SCHEMES = ("RU_INN", "RU_OGRN", "RU_KPP", "RU_OKPO", "IMO")

# Nationalities as the annexes write them.
DEMONYMS: dict[str, str] = {
    "russian": "RU",
    "ukrainian": "UA",
    "belarusian": "BY",
    "belarussian": "BY",
    "iranian": "IR",
    "syrian": "SY",
    "north korean": "KP",
    "chinese": "CN",
    "azerbaijani": "AZ",
    "armenian": "AM",
    "finnish": "FI",
    "moldovan": "MD",
    "cypriot": "CY",
    "serbian": "RS",
    "croatian": "HR",
    "israeli": "IL",
    "swiss": "CH",
    "french": "FR",
    "german": "DE",
    "indian": "IN",
    "uzbekistani": "UZ",
    "uzbek": "UZ",
    "british": "GB",
    "pakistani": "PK",
    "canadian": "CA",
    "kazakh": "KZ",
    "kazakhstani": "KZ",
    "kyrgyz": "KG",
    "tajik": "TJ",
    "turkish": "TR",
    "emirati": "AE",
    "georgian": "GE",
    "latvian": "LV",
    "lithuanian": "LT",
    "estonian": "EE",
    "american": "US",
}
# Country spellings seen in the annexes that neither pycountry nor `to_iso2` knows.
EXTRA_COUNTRY_NAMES: dict[str, str] = {
    "uae": "AE",
    "u.a.e": "AE",
    "russia": "RU",
    "россия": "RU",
    "российская федерация": "RU",
    "украина": "UA",
    "crimea": "UA",
    "kosovo": "XK",
}

_DMY = re.compile(r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})$")
_DAY_MONTH_YEAR = re.compile(r"^(?P<day>\d{1,2}) (?P<month>[A-Za-z]+) (?P<year>\d{4})$")
_CELEX_REGULATION = re.compile(r"^3(\d{4})R(\d{4})$")
_TAIL = re.compile(
    r"(?:^|[\s,])(?:issued|valid|expire[sd]?|date of expiry|on \d).*$", re.IGNORECASE
)
_SERIES = re.compile(r"series\s+(\d{2}\s?\d{2})\s+No\.?\s+(\d{6})", re.IGNORECASE)
_PARENTHETICAL = re.compile(r"\(((?:[^()]|\([^()]*\))*)\)")
_INLINE = re.compile(
    r"(?P<label>(?<![A-Za-z])(?:OGRNIP|OGRN|INN|KPP|OKPO|SRN|TIN)(?![A-Za-z])|ИНН|КПП|ОГРН|ОКПО)"
    r"\s*[:№#\-–]?\s*(?P<value>\d[\d ]*\d)"
)
_PREFIXED = re.compile(r"^(?:(?P<label>.*?\D)[\s:№#]+)?(?P<value>\S*\d\S*(?: \d+)*)$")
_RU_TAX = re.compile(r"^(?:\d{10}|\d{12})$")
_RU_REGISTRATION = re.compile(r"^(?:\d{13}|\d{15})$")
_LONG_NUMBER = re.compile(r"\d{5,}")


@dataclass(frozen=True)
class _Piece:
    """One identifier value found in a cell, with the label and country written next to it."""

    value: str
    label: str | None
    country: str | None


# --- public API -----------------------------------------------------------------------------


def check_complete(parts: Mapping[str, bytes]) -> None:
    """The file ends with a line break: the last record was received whole."""
    data = require_part(parts, MAIN_PART)
    require_data(MAIN_PART, data)
    require_final_line_break(MAIN_PART, data)


def parse(parts: Mapping[str, bytes]) -> ParsedList:
    """One consolidated or amendment transcription (part `consolidated`) in the list model.

    Refuses a file cut mid-line (`check_complete`) before reading it.
    """
    check_complete(parts)
    header, records = _read(parts[MAIN_PART])
    act_column = CONSOLIDATED_COLUMN if CONSOLIDATED_COLUMN in header else AMENDMENT_COLUMNS[0]
    entries: list[Row] = []
    aliases: list[Row] = []
    identifiers: list[Row] = []
    addresses: list[Row] = []
    seen: dict[str, int] = {}
    for number, line, row in records:
        entry_id = _entry_id(row, act_column, line)
        if entry_id in seen:
            raise SnapshotFormatError(
                f"line {line}: entry {entry_id} repeats (first at record {seen[entry_id]})"
            )
        seen[entry_id] = number
        address_rows: list[Row] = [
            {"entry_id": entry_id, "address": text, "city": None, "country": _place(text)}
            for text in _addresses(row.get("address", ""))
        ]
        countries = sorted(
            {code for column in COUNTRY_COLUMNS for code in _column_countries(row, column)}
            | {str(a["country"]) for a in address_rows if a["country"]}
        )
        entity_type = ENTITY_TYPES.get(row["schema"], "unknown")
        entries.append(
            {
                "entry_id": entry_id,
                "entity_type": entity_type,
                "name": row["name"],
                "programs": _programs(row, act_column),
                "countries": countries,
                "listing_date": _date(row["startDate"], line),
                "remarks": "\n".join(row[c] for c in REMARK_COLUMNS if row.get(c)) or None,
                "source_row_number": number,
            }
        )
        aliases += _aliases(entry_id, row)
        identifiers += _identifiers(entry_id, row, countries, entity_type)
        addresses += address_rows
    return ParsedList(
        entries=frame(entries, ENTRY_SCHEMA),
        aliases=frame(aliases, ALIAS_SCHEMA),
        identifiers=frame(identifiers, IDENTIFIER_SCHEMA),
        addresses=frame(addresses, ADDRESS_SCHEMA),
    )


def amended_act(data: bytes) -> str | None:
    """The CELEX number of the amending act (`amendmentCelex`), or None for a consolidated file."""
    header, records = _read(data)
    if CONSOLIDATED_COLUMN in header:
        return None
    acts = {row[AMENDMENT_COLUMNS[1]] for _, _, row in records}
    if len(acts) != 1 or "" in acts:
        raise SnapshotFormatError(f"amendmentCelex is not one value for the file: {sorted(acts)}")
    return acts.pop()


def identifiers_in(
    column: str, text: str, countries: Iterable[str] = ()
) -> list[tuple[str, str, str | None]]:
    """(scheme, value, country as given) for every identifier in one cell of `column`.

    `countries` are the entry's ISO codes; they decide whether unlabelled or generically
    labelled numbers are Russian (see the module docstring).
    """
    default = IDENTIFIER_COLUMNS[column]
    known = set(countries)
    found: list[tuple[str, str, str | None]] = []
    for piece in _pieces(text):
        if piece.country is not None:
            russian = _country_name(piece.country) == "RU"
        else:
            russian = not known or "RU" in known
        scheme = _scheme(piece, default, column, russian)
        value = piece.value
        if scheme in DIGIT_SCHEMES and value.replace(" ", "").isdigit():
            value = value.replace(" ", "")
        found.append((scheme, value, piece.country))
    return found


# --- reading --------------------------------------------------------------------------------


def _read(data: bytes) -> tuple[list[str], list[tuple[int, int, dict[str, str]]]]:
    """Header and (record number, line, row) for every non-blank record, cells trimmed."""
    refuse_gzip(data)
    text = decode_utf8(data)
    if not text.strip():
        raise SnapshotFormatError("empty input: the file holds no records")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, int, dict[str, str]]] = []
    try:
        header = [cell.strip() for cell in next(reader)]
        if CONSOLIDATED_COLUMN in header:
            layout: tuple[str, ...] = (CONSOLIDATED_COLUMN,)
        elif all(column in header for column in AMENDMENT_COLUMNS):
            layout = AMENDMENT_COLUMNS
        else:
            raise SnapshotFormatError(
                f"header has neither `celex` nor `amendedCelex,amendmentCelex` (starts "
                f"{header[:3]!r}): not an EU journal transcription"
            )
        missing = [c for c in (*layout, *REQUIRED_COLUMNS) if c not in header]
        if missing:
            raise SnapshotFormatError(f"header lacks {missing}")
        start = reader.line_num + 1
        for record in reader:
            if not any(cell.strip() for cell in record):
                start = reader.line_num + 1
                continue
            if len(record) != len(header):
                raise SnapshotFormatError(
                    f"line {start} has {len(record)} fields, the header has {len(header)}"
                )
            row = {name: cell.strip() for name, cell in zip(header, record, strict=True)}
            records.append((len(records) + 1, start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SnapshotFormatError(f"malformed CSV at line {reader.line_num}: {exc}") from exc
    if not records:
        raise SnapshotFormatError("the file has a header but no records")
    return header, records


def _entry_id(row: dict[str, str], act_column: str, line: int) -> str:
    act, annex, record_id, name = row[act_column], row["annex"], row["recordId"], row["name"]
    if not act or not annex or not name:
        raise SnapshotFormatError(f"line {line}: {act_column}, annex or name is empty")
    key = record_id or "name:" + " ".join(name.split())
    return f"{act}/{annex}/{key}"


def _programs(row: dict[str, str], act_column: str) -> list[str]:
    act = row[act_column]
    match = _CELEX_REGULATION.match(act)
    regulation = f"{int(match.group(2))}/{match.group(1)}" if match else act
    found = {f"{regulation} Annex {row['annex']}"}
    if row["programKey"]:
        found.add(row["programKey"])
    return sorted(found)


def _date(text: str, line: int) -> date | None:
    if not text:
        return None
    found = read_date(text, (_DMY, _DAY_MONTH_YEAR))
    if found is None:
        raise SnapshotFormatError(f"line {line}: startDate {text!r} is not a date")
    return found


def _addresses(text: str) -> list[str]:
    """The `; `-separated addresses of a cell; one address when no part has a comma (a few
    addresses use `;` between their own parts: `606007; Dzerzhinsk; ...; Russian Federation`)."""
    parts = unique(LIST_SEPARATOR.split(text))
    if len(parts) > 2 and not any("," in part for part in parts):
        return [text.strip()]
    return parts


def _aliases(entry_id: str, row: dict[str, str]) -> list[Row]:
    found: dict[tuple[str, str, str | None], None] = {}
    for column, kind, quality in (
        ("alias", "aka", None),
        ("weakAlias", "aka", "weak"),
        ("previousName", "fka", None),
    ):
        for alias in LIST_SEPARATOR.split(row.get(column, "")):
            if alias and alias != row["name"]:
                found[(alias, kind, quality)] = None
    return [
        {"entry_id": entry_id, "alias": alias, "alias_type": kind, "quality": quality}
        for alias, kind, quality in found
    ]


def _identifiers(
    entry_id: str, row: dict[str, str], countries: list[str], entity_type: str
) -> list[Row]:
    found: dict[tuple[str, str], str | None] = {}
    for column in IDENTIFIER_COLUMNS:
        for scheme, value, country in identifiers_in(column, row.get(column, ""), countries):
            if scheme == "IMO" and entity_type != "vessel":
                scheme = "IMO_COMPANY"  # IMO company number: no ship check digit
            found.setdefault((scheme, value), country)
    return [
        {
            "entry_id": entry_id,
            "scheme": scheme,
            "value": value,
            "country": country,
            "is_valid": VALIDATORS[scheme](value) if scheme in VALIDATORS else None,
        }
        for (scheme, value), country in found.items()
    ]


# --- identifier cells -----------------------------------------------------------------------


def _pieces(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    for segment in _split_outside_parentheses(" ".join(text.split()), ";"):
        for part in _split_outside_parentheses(segment, ","):
            for item in re.split(r"\s+/\s*|\s*/\s+", part):
                pieces += _parse_piece(item)
    return pieces


def _split_outside_parentheses(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == separator and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _parse_piece(text: str) -> list[_Piece]:
    text = _SERIES.sub(r"\1 \2", _TAIL.sub("", text)).strip()
    label: str | None = None
    country: str | None = None
    nested: list[_Piece] = []
    for content in _PARENTHETICAL.findall(text):
        content = content.strip()
        head, _, rest = content.partition(",")
        if _LONG_NUMBER.search(content):
            nested += _parse_piece(re.sub(r"^or\s+", "", content))
        elif rest and _country_name(head):
            country, label = head.strip(), label or rest.strip()
        elif _country_name(content):
            country = content
        elif content:
            label = label or content
    text = _PARENTHETICAL.sub(" ", text)

    pieces: list[_Piece] = []
    for match in _INLINE.finditer(text):
        pieces.append(_Piece(match.group("value").strip(), match.group("label"), country))
    text = _INLINE.sub(" ", text)
    text = " ".join(text.split()).strip(" .,;:)(-–")
    prefixed = _PREFIXED.match(text) if text else None
    if prefixed is not None:
        value = prefixed.group("value").strip(" .,;:)(-–")
        own_label = (prefixed.group("label") or "").strip() or None
        if _is_value(value):
            pieces.insert(0, _Piece(value, own_label or label, country))
    return pieces + nested


def _is_value(value: str) -> bool:
    return (
        any(ch.isdigit() for ch in value)
        and len(value) <= 40
        and value.count(" ") <= 5
        and not _DMY.match(value)
    )


def _scheme(piece: _Piece, default: str, column: str, russian: bool) -> str:
    scheme = _label_scheme(piece.label) if piece.label else None
    bare = scheme is None
    scheme = scheme or default
    digits = piece.value.replace(" ", "")
    if scheme == EU_TAX_INN and _RU_TAX.match(digits) and (russian or inn.is_valid(digits)):
        return "RU_INN"
    if scheme == GENERIC_TAX or (bare and column in RUSSIAN_SHAPE_COLUMNS):
        if russian and _RU_TAX.match(digits):
            return "RU_INN"
        if russian and bare and _RU_REGISTRATION.match(digits):
            return "RU_OGRN"
    return "TAX_ID" if scheme in (GENERIC_TAX, EU_TAX_INN) else scheme


def _label_scheme(label: str) -> str | None:
    key = " ".join(label.lower().replace(".", " ").replace(":", " ").split())
    return next((scheme for pattern, scheme in LABEL_RULES if pattern.search(key)), None)


# --- countries ------------------------------------------------------------------------------


def _column_countries(row: dict[str, str], column: str) -> set[str]:
    text = _PARENTHETICAL.sub(" ", row.get(column, ""))
    found: set[str] = set()
    for part in re.split(r"[,;]|\band/or\b", text):
        code = _country_or_demonym(part)
        if code:
            found.add(code)
            continue
        for word in re.split(r"\band\b|\bor\b", part):
            code = _country_or_demonym(word)
            if code:
                found.add(code)
    return found


def _country_or_demonym(text: str) -> str | None:
    name = text.strip()
    return DEMONYMS.get(name.lower()) or (_country_name(name) if name else None)


def _place(text: str) -> str | None:
    """ISO alpha-2 of the country an address or country field names, or None."""
    cleaned = _PARENTHETICAL.sub(" ", text.replace("’", "'"))
    parts = [part for part in cleaned.split(",") if part.strip()]
    for part in (parts[-1], parts[0]) if parts else ():
        code = _country_name(part)
        if code:
            return code
    matches = list(_country_pattern().finditer(cleaned.casefold()))
    return _country_names()[matches[-1].group(0)] if matches else None


def _country_name(text: str) -> str | None:
    name = re.sub(r"[\d\"“”«».]+", " ", text.replace("’", "'"))
    name = " ".join(name.split()).strip(" -–;:")
    name = re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)
    if len(name) < 2:
        return None
    # Names only: a short label such as `BRN` or `CIN` is not the ISO alpha-3 code it spells.
    return _country_names().get(name.casefold()) or (to_iso2(name) if len(name) > 3 else None)


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names[str(value).replace("’", "'").casefold()] = str(country.alpha_2)
    names.update(EXTRA_COUNTRY_NAMES)
    return names


@cache
def _country_pattern() -> re.Pattern[str]:
    names = sorted((n for n in _country_names() if len(n) >= 4), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
