"""Tests for the UK ConList.csv parser, on hand-made records (fictional names and numbers)."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date

import polars as pl
import pytest

from assets.sanctions import uk_consolidated
from assets.sanctions.identifiers import find_russian_ids
from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
)
from assets.sanctions.parsing import IncompleteSnapshotError
from assets.sanctions.uk_consolidated import PARSER_VERSION, read_conlist, split_numbered

# The header line of the 2022-format ConList.csv: 36 columns, in file order.
HEADER_LINE = (
    "Name 6,Name 1,Name 2,Name 3,Name 4,Name 5,Title,Name Non-Latin Script,"
    "Non-Latin Script Type,Non-Latin Script Language,DOB,Town of Birth,Country of Birth,"
    "Nationality,Passport Number,Passport Details,National Identification Number,"
    "National Identification Details,Position,Address 1,Address 2,Address 3,Address 4,"
    "Address 5,Address 6,Post/Zip Code,Country,Other Information,Group Type,Alias Type,"
    "Alias Quality,Regime,Listed On,UK Sanctions List Date Designated,Last Updated,Group ID"
)
HEADER = HEADER_LINE.split(",")
TITLE = "Last Updated,05/06/2026\r\n"

# Valid check digits (python-stdnum), fictional numbers.
INN_ENTITY = "9901000010"
OGRN_ENTITY = "1099900000012"
INN_PERSON_BAD = "990100001233"  # the valid one ends ...232
IMO_SHIP = "9901013"

ENTITY = {
    "Group Type": "Entity",
    "Regime": "Russia",
    "Listed On": "24/02/2022",
    "UK Sanctions List Date Designated": "24/02/2022",
    "Last Updated": "01/03/2023",
    "Group ID": "90001",
    "Address 1": "12 Vymyshlennaya Street",
    "Address 2": "Office 4",
    "Address 6": "Moscow",
    "Post/Zip Code": "101000",
    "Country": "Russia",
    "Other Information": (
        "(UK Sanctions List Ref):RUS9901. (UK Statement of Reasons):Fictional company, made up "
        "for tests. (Type of entity):Limited Liability Company (Business Reg No):Tax ID No. "
        f"{INN_ENTITY} (Russia); OGRN: {OGRN_ENTITY}"
    ),
}
PERSON = {
    "Group Type": "Individual",
    "Regime": "Russia",
    "Listed On": "15/03/2022",
    "UK Sanctions List Date Designated": "15/03/2022",
    "Last Updated": "15/03/2022",
    "Group ID": "90002",
    "Title": "Mr",
    "DOB": "01/02/1970",
    "Town of Birth": "Fictionsk",
    "Country of Birth": "Russia",
    "Nationality": "(1) Russia (2) Belarus",
    "Other Information": f"(UK Sanctions List Ref):RUS9902. (Gender):Male. INN: {INN_PERSON_BAD}",
}


def line(cells: dict[str, str]) -> str:
    unknown = set(cells) - set(HEADER)
    assert not unknown, unknown
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([cells.get(c, "") for c in HEADER])
    return buffer.getvalue()


def conlist(*rows: dict[str, str], title: str = TITLE) -> str:
    return title + line(dict(zip(HEADER, HEADER, strict=True))) + "".join(map(line, rows))


FIXTURE = conlist(
    {
        **ENTITY,
        "Name 6": "NORDFIKTSIYA TRADING LLC",
        "Name Non-Latin Script": "ООО НОРДФИКЦИЯ ТРЕЙДИНГ",
        "Non-Latin Script Type": "Cyrillic",
        "Non-Latin Script Language": "Russian",
        "Alias Type": "Primary name",
    },
    {**ENTITY, "Name 6": "NORDFIKTSIA TRADING", "Alias Type": "AKA", "Alias Quality": "Good"},
    {
        **PERSON,
        "Name 6": "EXAMPLEV",
        "Name 1": "Ivan",
        "Name 2": "Petrovich",
        "Name Non-Latin Script": "Иван Петрович ЭКЗАМПЛЕВ",
        "Passport Number": "(1) 750000001 (2) 750000002",
        "Passport Details": "(1) Russian. (2) Russian. Expired",
        "National Identification Number": "4500 123456",
        "Alias Type": "Primary name",
    },
    {
        **PERSON,
        "Name 6": "EKZAMPLEV",
        "Name 1": "Ivan",
        "Alias Type": "Primary name variation",
        "Alias Quality": "Good",
    },
    # A row of group 90001 after group 90002: groups are keyed, not contiguous.
    {
        **ENTITY,
        "Name 6": "NFT",
        "Alias Type": "AKA",
        "Alias Quality": "Low",
        "Address 1": "Fictional Prospekt 7",
        "Address 2": "",
        "Address 6": "Saint Petersburg",
        "Post/Zip Code": "",
    },
    {
        "Name 6": "SEA OF FICTION",
        "Group Type": "Ship",
        "Alias Type": "Primary name",
        "Regime": "Russia",
        "Listed On": "09/05/2023",
        "Group ID": "90003",
        "Other Information": (
            f"(UK Sanctions List Ref):RUS9903. (IMO number):{IMO_SHIP}. "
            "(Current believed flag of ship):Fictionland"
        ),
    },
).encode("utf-8")


def parse(data: bytes) -> ParsedList:
    """The registry's call: the file as the snapshot's `conlist` part."""
    return uk_consolidated.parse({"conlist": data})


def by_entry(frame: pl.DataFrame, entry_id: str, *columns: str) -> list[tuple[object, ...]]:
    return frame.filter(pl.col("entry_id") == entry_id).select(columns).rows()


def test_parser_version() -> None:
    assert PARSER_VERSION == "uk-conlist-csv/1"


def test_read_skips_the_title_row_and_keeps_records_verbatim() -> None:
    header, records = read_conlist(FIXTURE)

    assert header == HEADER
    assert len(records) == 6
    assert all(len(record) == 36 for record in records)
    assert records[2][HEADER.index("Passport Number")] == "(1) 750000001 (2) 750000002"


def test_one_entry_per_group_in_file_order() -> None:
    entries = parse(FIXTURE).entries

    assert dict(entries.schema) == ENTRY_SCHEMA
    assert entries.rows(named=True) == [
        {
            "entry_id": "90001",
            "entity_type": "entity",
            "name": "NORDFIKTSIYA TRADING LLC",
            "programs": ["Russia"],
            "countries": ["RU"],
            "listing_date": date(2022, 2, 24),
            "remarks": ENTITY["Other Information"],
            "source_row_number": 1,
        },
        {
            "entry_id": "90002",
            "entity_type": "individual",
            "name": "Ivan Petrovich EXAMPLEV",
            "programs": ["Russia"],
            "countries": ["BY", "RU"],
            "listing_date": date(2022, 3, 15),
            "remarks": PERSON["Other Information"],
            "source_row_number": 3,
        },
        {
            "entry_id": "90003",
            "entity_type": "vessel",
            "name": "SEA OF FICTION",
            "programs": ["Russia"],
            "countries": [],
            "listing_date": date(2023, 5, 9),
            "remarks": entries["remarks"][2],
            "source_row_number": 6,
        },
    ]


def test_aliases_keep_type_quality_and_non_latin_script() -> None:
    aliases = parse(FIXTURE).aliases

    assert dict(aliases.schema) == ALIAS_SCHEMA
    assert by_entry(aliases, "90001", "alias", "alias_type", "quality") == [
        ("ООО НОРДФИКЦИЯ ТРЕЙДИНГ", "original_script", None),
        ("NORDFIKTSIA TRADING", "aka", "strong"),
        ("NFT", "aka", "weak"),
    ]
    assert by_entry(aliases, "90002", "alias", "alias_type", "quality") == [
        ("Иван Петрович ЭКЗАМПЛЕВ", "original_script", None),
        ("Ivan EKZAMPLEV", "primary name variation", "strong"),
    ]
    assert by_entry(aliases, "90003", "alias") == []


def test_identifiers_from_columns_and_other_information() -> None:
    identifiers = parse(FIXTURE).identifiers
    columns = ("scheme", "value", "country", "is_valid")

    assert dict(identifiers.schema) == IDENTIFIER_SCHEMA
    assert by_entry(identifiers, "90001", *columns) == [
        ("UK_SANCTIONS_LIST_REF", "RUS9901", None, None),
        ("RU_INN", INN_ENTITY, None, True),
        ("RU_OGRN", OGRN_ENTITY, None, True),
    ]
    assert by_entry(identifiers, "90002", *columns) == [
        ("PASSPORT", "750000001", None, None),
        ("PASSPORT", "750000002", None, None),
        ("NATIONAL_ID", "4500 123456", None, None),
        ("UK_SANCTIONS_LIST_REF", "RUS9902", None, None),
        ("RU_INN", INN_PERSON_BAD, None, False),  # kept, flagged
    ]
    assert by_entry(identifiers, "90003", *columns) == [
        ("UK_SANCTIONS_LIST_REF", "RUS9903", None, None),
        ("IMO", IMO_SHIP, None, True),
    ]


def test_addresses_one_line_per_distinct_address() -> None:
    addresses = parse(FIXTURE).addresses

    assert dict(addresses.schema) == ADDRESS_SCHEMA
    assert addresses.rows() == [
        ("90001", "12 Vymyshlennaya Street, Office 4, Moscow, 101000, Russia", None, "RU"),
        ("90001", "Fictional Prospekt 7, Saint Petersburg, Russia", None, "RU"),
    ]


def test_group_without_primary_row_takes_its_first_row() -> None:
    data = conlist(
        {**ENTITY, "Name 6": "FIRST NAME GIVEN", "Alias Type": "AKA"},
        {**ENTITY, "Name 6": "SECOND NAME", "Alias Type": "FKA"},
    ).encode()
    parsed = parse(data)

    assert parsed.entries["name"].to_list() == ["FIRST NAME GIVEN"]
    assert parsed.aliases.select("alias", "alias_type").rows() == [("SECOND NAME", "fka")]


def test_listed_on_falls_back_to_date_designated_and_long_quality_names() -> None:
    data = conlist(
        {
            **ENTITY,
            "Name 6": "X",
            "Alias Type": "Primary name",
            "Listed On": "",
            "UK Sanctions List Date Designated": "31/12/2020",
        },
        {
            **ENTITY,
            "Name 6": "Y",
            "Alias Type": "AKA",
            "Alias Quality": "Low quality",
            "Listed On": "",
            "UK Sanctions List Date Designated": "01/01/2021",
        },
    ).encode()
    parsed = parse(data)

    assert parsed.entries["listing_date"].to_list() == [date(2020, 12, 31)]
    assert parsed.aliases["quality"].to_list() == ["weak"]


def test_cp1252_bytes_decode() -> None:
    data = conlist(
        {**ENTITY, "Name 6": "CAFÉ FICTIF SARL", "Alias Type": "Primary name"},
        {**ENTITY, "Name 6": "SOCIÉTÉ FICTIVE", "Alias Type": "AKA", "Alias Quality": "Good"},
    ).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    parsed = parse(data)

    assert parsed.entries["name"].to_list() == ["CAFÉ FICTIF SARL"]
    assert parsed.aliases["alias"].to_list() == ["SOCIÉTÉ FICTIVE"]


def test_bytes_undefined_in_cp1252_do_not_crash() -> None:
    data = conlist({**ENTITY, "Name 6": "ODD\x81NAME", "Alias Type": "Primary name"}).encode(
        "latin-1"
    )

    assert parse(data).entries["name"].to_list() == ["ODD\x81NAME"]


def test_utf8_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + conlist({**ENTITY, "Name 6": "A"}).encode()

    assert parse(data).entries["entry_id"].to_list() == ["90001"]


def test_missing_title_row_is_read_but_refused_as_incomplete() -> None:
    data = conlist({**ENTITY, "Name 6": "A"}, title="").encode()

    header, records = read_conlist(data)
    assert header == HEADER and len(records) == 1
    with pytest.raises(IncompleteSnapshotError, match="part conlist: the first line is not"):
        parse(data)


def test_split_numbered() -> None:
    assert split_numbered("(1) Russia (2) Belarus.") == ["Russia", "Belarus"]
    assert split_numbered("Russia") == ["Russia"]
    assert split_numbered("") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"Tax ID No. {INN_ENTITY} (Russia); OGRN: {OGRN_ENTITY}",
            [("RU_INN", INN_ENTITY), ("RU_OGRN", OGRN_ENTITY)],
        ),
        (f"{INN_ENTITY} (Tax ID/INN)", [("RU_INN", INN_ENTITY)]),
        (f"Russia INN - {INN_ENTITY}", [("RU_INN", INN_ENTITY)]),
        (f"TIN (Taxpayer Identification Number) {INN_ENTITY}", [("RU_INN", INN_ENTITY)]),
        (f"Principal State Registration Number {OGRN_ENTITY}", [("RU_OGRN", OGRN_ENTITY)]),
        ("INN 12345", []),  # too short to be a number of interest
        (f"INNOVATION {INN_ENTITY}", []),
        (f"Tax ID No. {INN_ENTITY} (Uzbekistan)", []),
        ("Tax ID No. 12345678901 (Russia)", []),  # 11 digits: not an INN
        (f"phone {INN_ENTITY}", []),
        ("", []),
    ],
)
def test_find_russian_ids(text: str, expected: list[tuple[str, str]]) -> None:
    assert find_russian_ids(text) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty input"),
        (b" \r\n", "empty input"),
        (gzip.compress(FIXTURE), "gzip"),
        (b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- \r\n', "not a ConList.csv"),
        (TITLE.encode(), "no ConList header"),
        (conlist().encode(), "no records"),
        (TITLE.encode() + b"Name 6,Name 1,Group ID\r\nX,,1\r\n", "lacks columns"),
        (FIXTURE + b"TOO,FEW,FIELDS\r\n", "has 3 fields"),
        (FIXTURE + b'"unclosed,quote\r\n', "fields"),
    ],
)
def test_malformed_files_raise(data: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse(data)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{**ENTITY, "Name 6": "A"}, {**ENTITY, "Name 6": "B", "Group Type": "Individual"}],
            "conflicting Group Type",
        ),
        ([{**ENTITY, "Name 6": "A", "Group Type": "Aircraft"}], "unknown Group Type"),
        ([{**ENTITY, "Name 6": "A", "Alias Quality": "Medium"}], "unknown Alias Quality"),
        ([{**ENTITY, "Name 6": "A", "Listed On": "2022-02-24"}], "not a dd/mm/yyyy date"),
        ([{**ENTITY, "Name 6": "A", "Listed On": "31/02/2022"}], "not a dd/mm/yyyy date"),
        ([{**ENTITY, "Name 6": "A", "Group ID": ""}], "empty Group ID"),
        ([{**ENTITY, "Alias Type": "Primary name"}], "has no name"),
    ],
)
def test_inconsistent_records_raise(rows: list[dict[str, str]], message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse(conlist(*rows).encode())
