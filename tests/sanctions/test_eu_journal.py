"""Tests for the EU Official Journal transcription parser: fictional annex rows, then real files."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.sanctions import eu_journal
from assets.sanctions.eu_journal import PARSER_VERSION, amended_act, identifiers_in
from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
)

# Fictional numbers with valid check digits (python-stdnum).
INN_A = "9901000027"
INN_B = "9901000034"
INN_PERSON = "990100004441"
OGRN_A = "1099900000034"
OGRN_B = "1099900000045"
USCC = "91310000MA1FL9XX96"
IMO_VESSEL = "9000003"

# Column names of the transcriptions (45 after `celex`; amendments have two act columns).
DATA_COLUMNS = [
    "recordId",
    "programKey",
    "annex",
    "measure",
    "startDate",
    "reason",
    "schema",
    "name",
    "alias",
    "weakAlias",
    "previousName",
    "country",
    "nationality",
    "jurisdiction",
    "birthDate",
    "birthPlace",
    "position",
    "passportNumber",
    "gender",
    "appearance",
    "ethnicity",
    "fatherName",
    "motherName",
    "incorporationDate",
    "legalForm",
    "sector",
    "registrationNumber",
    "taxNumber",
    "idNumber",
    "innCode",
    "ogrnCode",
    "kppCode",
    "okpoCode",
    "leiCode",
    "swiftBic",
    "ticker",
    "imoNumber",
    "mmsi",
    "flag",
    "address",
    "phone",
    "email",
    "website",
    "notes",
]
CONSOLIDATED_COLUMNS = ["celex", *DATA_COLUMNS]
AMENDMENT_COLUMNS = ["amendedCelex", "amendmentCelex", *DATA_COLUMNS]


def parse(data: bytes) -> ParsedList:
    """The registry's call: the file as the snapshot's `consolidated` part."""
    return eu_journal.parse({"consolidated": data})


def write_csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


RU_ADDRESS = "101000, Testograd, Vymyshlennaya Str., 1, Russian Federation"
ANNEX_IV = {"celex": "32014R0833", "programKey": "EU-RUS", "annex": "IV"}
ANNEX_IV |= {"measure": "Export control", "schema": "LegalEntity", "startDate": "24.7.2026"}
CONSOLIDATED_ROWS = [
    {
        **ANNEX_IV,
        "recordId": "1",
        "name": "Fictitious Machine Tools LLC",
        "alias": "ООО «Фиктивные Станки»; Fict Tools",
        "previousName": "Imaginary Lathes LLC",
        "reason": "Supplies fictional lathes;\nsecond line of the reason",
        "registrationNumber": f"{INN_A} (Tax ID/INN)",
        "address": f"{RU_ADDRESS}; 101001, Testograd, Primernaya Str., 2, Russian Federation",
    },
    {
        **ANNEX_IV,
        "recordId": "2",
        "name": "Imaginary Trading Company Limited",
        "registrationNumber": "0110000000 (Tax ID/INN)",  # EU label, Vietnamese number
        "address": "12 Fictional Road, Hanoi, Socialist Republic of Vietnam",
    },
    {
        **ANNEX_IV,
        "recordId": "3",
        "name": "Pretend Electronics (HK) Limited",
        "registrationNumber": f"{USCC} (USCC); 1234567 (CR No.)",
        "address": "Flat 1, 2 Make-Believe Street, Kowloon, Hong Kong",
    },
    {
        **ANNEX_IV,
        "recordId": "4",
        "name": "JSC Example Instruments",
        "registrationNumber": f"{INN_B}; {OGRN_B}",  # no labels at all
        "address": RU_ADDRESS,
        "startDate": "12 March 2022",
    },
    {
        **ANNEX_IV,
        "recordId": "1",  # record numbers restart in every annex
        "annex": "XLII",
        "measure": "Transportation restrictions",
        "schema": "Vessel",
        "name": "SEA TESTER",
        "imoNumber": IMO_VESSEL,
    },
    {
        **ANNEX_IV,
        "recordId": "",  # an unnumbered annex
        "annex": "XIV",
        "measure": "Financial restrictions",
        "name": "Bank  Testovy",
        "country": "Russia",
        "startDate": "",
        "notes": "Fictional note",
    },
]
CONSOLIDATED = write_csv(CONSOLIDATED_COLUMNS, CONSOLIDATED_ROWS)

ANNEX_I = {"amendedCelex": "32014R0269", "amendmentCelex": "32099R0001", "programKey": "EU-UKR"}
ANNEX_I |= {"measure": "Asset freeze", "startDate": "23.7.2026", "reason": "Fictional reason."}
AMENDMENT_ROWS = [
    {
        **ANNEX_I,
        "recordId": "9001",
        "annex": "I.PERSONS",
        "schema": "Person",
        "name": "Ivan Testovich PRIMEROV",
        "alias": "Иван Тестович ПРИМЕРОВ",
        "nationality": "Russian, Kazakh",
        "taxNumber": INN_PERSON,
        "passportNumber": "series 4510 No 123456, issued on 1.2.2003 by a fictional office",
    },
    {
        **ANNEX_I,
        "recordId": "9002",
        "annex": "I.ENTITIES",
        "schema": "Company",
        "name": "LLC Pretend Shipping",
        "registrationNumber": f"{INN_A} / 990101001",
        "innCode": INN_A,
        "ogrnCode": "1 099 900 000 034",
        "kppCode": "990101001",
        "okpoCode": "12345678",
        "imoNumber": "1234567",  # an IMO company number
        "address": "Russian Federation, Testograd, st. Primernaya, 3",
    },
]
AMENDMENT = write_csv(AMENDMENT_COLUMNS, AMENDMENT_ROWS)


@pytest.fixture(scope="module")
def consolidated() -> ParsedList:
    return parse(CONSOLIDATED)


@pytest.fixture(scope="module")
def amendment() -> ParsedList:
    return parse(AMENDMENT)


def test_version() -> None:
    assert PARSER_VERSION == "eu-journal-csv/1"


def test_fixture_has_45_and_46_columns() -> None:
    assert len(CONSOLIDATED_COLUMNS) == 45
    assert len(AMENDMENT_COLUMNS) == 46


def test_entries(consolidated: ParsedList) -> None:
    entries = consolidated.entries
    assert dict(entries.schema) == ENTRY_SCHEMA
    assert entries.select(
        "entry_id", "entity_type", "listing_date", "source_row_number"
    ).rows() == [
        ("32014R0833/IV/1", "entity", date(2026, 7, 24), 1),
        ("32014R0833/IV/2", "entity", date(2026, 7, 24), 2),
        ("32014R0833/IV/3", "entity", date(2026, 7, 24), 3),
        ("32014R0833/IV/4", "entity", date(2022, 3, 12), 4),
        ("32014R0833/XLII/1", "vessel", date(2026, 7, 24), 5),
        ("32014R0833/XIV/name:Bank Testovy", "entity", None, 6),
    ]
    first = entries.row(0, named=True)
    assert first["name"] == "Fictitious Machine Tools LLC"
    assert first["programs"] == ["833/2014 Annex IV", "EU-RUS"]
    assert first["remarks"] == "Supplies fictional lathes;\nsecond line of the reason"
    assert entries.row(5, named=True)["remarks"] == "Fictional note"
    assert entries.row(4, named=True)["programs"] == ["833/2014 Annex XLII", "EU-RUS"]


def test_countries(consolidated: ParsedList, amendment: ParsedList) -> None:
    assert consolidated.entries["countries"].to_list() == [
        ["RU"],
        ["VN"],
        ["HK"],
        ["RU"],
        [],
        ["RU"],
    ]
    assert amendment.entries["countries"].to_list() == [["KZ", "RU"], ["RU"]]


def test_aliases(consolidated: ParsedList, amendment: ParsedList) -> None:
    assert dict(consolidated.aliases.schema) == ALIAS_SCHEMA
    assert consolidated.aliases.rows() == [
        ("32014R0833/IV/1", "ООО «Фиктивные Станки»", "aka", None),
        ("32014R0833/IV/1", "Fict Tools", "aka", None),
        ("32014R0833/IV/1", "Imaginary Lathes LLC", "fka", None),
    ]
    assert amendment.aliases["alias"].to_list() == ["Иван Тестович ПРИМЕРОВ"]


def test_identifiers(consolidated: ParsedList) -> None:
    identifiers = consolidated.identifiers
    assert dict(identifiers.schema) == IDENTIFIER_SCHEMA
    assert identifiers.select("entry_id", "scheme", "value", "is_valid").rows() == [
        ("32014R0833/IV/1", "RU_INN", INN_A, True),
        ("32014R0833/IV/2", "TAX_ID", "0110000000", None),  # not Russian: stays a tax id
        ("32014R0833/IV/3", "CN_USCC", USCC, True),
        ("32014R0833/IV/3", "COMMERCIAL_REGISTRY_NUMBER", "1234567", None),
        ("32014R0833/IV/4", "RU_INN", INN_B, True),
        ("32014R0833/IV/4", "RU_OGRN", OGRN_B, True),
        ("32014R0833/XLII/1", "IMO", IMO_VESSEL, True),
    ]


def test_amendment_identifiers(amendment: ParsedList) -> None:
    assert sorted(amendment.identifiers.select("entry_id", "scheme", "value").rows()) == [
        ("32014R0269/I.ENTITIES/9002", "IMO_COMPANY", "1234567"),
        ("32014R0269/I.ENTITIES/9002", "REGISTRATION_NUMBER", "990101001"),
        ("32014R0269/I.ENTITIES/9002", "RU_INN", INN_A),  # once, from two columns
        ("32014R0269/I.ENTITIES/9002", "RU_KPP", "990101001"),
        ("32014R0269/I.ENTITIES/9002", "RU_OGRN", OGRN_A),  # spaces removed
        ("32014R0269/I.ENTITIES/9002", "RU_OKPO", "12345678"),
        ("32014R0269/I.PERSONS/9001", "PASSPORT", "4510 123456"),
        ("32014R0269/I.PERSONS/9001", "RU_INN", INN_PERSON),
    ]


def test_addresses(consolidated: ParsedList, amendment: ParsedList) -> None:
    assert dict(consolidated.addresses.schema) == ADDRESS_SCHEMA
    assert consolidated.addresses.select("entry_id", "country").rows() == [
        ("32014R0833/IV/1", "RU"),
        ("32014R0833/IV/1", "RU"),
        ("32014R0833/IV/2", "VN"),
        ("32014R0833/IV/3", "HK"),
        ("32014R0833/IV/4", "RU"),
    ]
    assert consolidated.addresses["address"][0] == RU_ADDRESS
    assert amendment.addresses["country"].to_list() == ["RU"]  # country written first


def test_one_address_with_semicolons_inside() -> None:
    row = {**CONSOLIDATED_ROWS[0], "address": "101000; Testograd; Vymyshlennaya Str.; 1; Russia"}
    addresses = parse(write_csv(CONSOLIDATED_COLUMNS, [row])).addresses
    assert addresses.select("address", "country").rows() == [(row["address"], "RU")]


def test_amended_act() -> None:
    assert amended_act(CONSOLIDATED) is None
    assert amended_act(AMENDMENT) == "32099R0001"
    mixed = [AMENDMENT_ROWS[0], {**AMENDMENT_ROWS[1], "amendmentCelex": "32099R0002"}]
    with pytest.raises(SnapshotFormatError, match="not one value"):
        amended_act(write_csv(AMENDMENT_COLUMNS, mixed))


RU = ("RU",)
REG = "registrationNumber"


@pytest.mark.parametrize(
    ("column", "text", "countries", "expected"),
    [
        (REG, f"{INN_A} (Tax ID/INN)", RU, [("RU_INN", INN_A, None)]),
        (REG, f"{INN_A}(Tax ID/INN)", RU, [("RU_INN", INN_A, None)]),
        (REG, "0110000000 (Tax ID/INN)", ("VN",), [("TAX_ID", "0110000000", None)]),
        # Russian-issued in occupied Crimea: the EU gives Ukraine, the INN check passes.
        (REG, f"{INN_A} (Tax ID/INN)", ("UA",), [("RU_INN", INN_A, None)]),
        (REG, f"{INN_A} (TIN)", ("UA",), [("TAX_ID", INN_A, None)]),
        (REG, "12345 (Tax ID/INN)", RU, [("TAX_ID", "12345", None)]),
        (REG, f"{INN_A} (INN)", ("TR",), [("RU_INN", INN_A, None)]),
        (REG, f"{OGRN_A} (OGRN)", (), [("RU_OGRN", OGRN_A, None)]),
        (REG, f"{INN_A} (TIN)", (), [("RU_INN", INN_A, None)]),
        (
            REG,
            f"{OGRN_A} (Russia, Registration Number (OGRN))",
            ("HK",),
            [("RU_OGRN", OGRN_A, "Russia")],
        ),
        (
            REG,
            f"{INN_A} (or State registration number : {OGRN_A})",
            RU,
            [("RU_INN", INN_A, None), ("RU_OGRN", OGRN_A, None)],
        ),
        (
            REG,
            "12345678 (BRN); 1234567 (TRN)",
            ("AE",),
            [("REGISTRATION_NUMBER", "12345678", None), ("TAX_ID", "1234567", None)],
        ),
        (
            REG,
            "12345678 (United Arab Emirates, National Economic Register Number (CBLS))",
            ("AE",),
            [("ECONOMIC_REGISTER_NUMBER", "12345678", "United Arab Emirates")],
        ),
        (REG, "Cr. No. 1234567", (), [("COMMERCIAL_REGISTRY_NUMBER", "1234567", None)]),
        (REG, f"USCC no. {USCC}", ("CN",), [("CN_USCC", USCC, None)]),
        (REG, f"SRN/OGRN {OGRN_A}", (), [("RU_OGRN", OGRN_A, None)]),
        (REG, f"ИНН/taxpayer identification number: {INN_A}", (), [("RU_INN", INN_A, None)]),
        (REG, f"(OGRN) {OGRN_A}", (), [("RU_OGRN", OGRN_A, None)]),
        (
            REG,
            f"INN: {INN_A} KPP: 990101001 OGRN: {OGRN_A}",
            (),
            [("RU_INN", INN_A, None), ("RU_KPP", "990101001", None), ("RU_OGRN", OGRN_A, None)],
        ),
        (REG, INN_A, ("TR",), [("REGISTRATION_NUMBER", INN_A, None)]),
        (REG, OGRN_A, (), [("RU_OGRN", OGRN_A, None)]),
        (REG, "DMCC-123456", ("AE",), [("REGISTRATION_NUMBER", "DMCC-123456", None)]),
        (REG, "9 901 000 027", RU, [("RU_INN", INN_A, None)]),
        ("taxNumber", f"{INN_PERSON} (Russia)", ("UA",), [("RU_INN", INN_PERSON, "Russia")]),
        ("taxNumber", f"{INN_A} (Ukraine)", RU, [("TAX_ID", INN_A, "Ukraine")]),
        ("taxNumber", f"{INN_A})", RU, [("RU_INN", INN_A, None)]),
        (
            "taxNumber",
            f"{INN_A} KPP: 990101001",
            RU,
            [("RU_INN", INN_A, None), ("RU_KPP", "990101001", None)],
        ),
        ("innCode", f"- {INN_A}", (), [("RU_INN", INN_A, None)]),
        (
            "innCode",
            f"{INN_A}, KPP 990101001, OKPO 12345678",
            (),
            [("RU_INN", INN_A, None), ("RU_KPP", "990101001", None), ("RU_OKPO", "12345678", None)],
        ),
        ("ogrnCode", f"{OGRN_A} on 1.2.2003", (), [("RU_OGRN", OGRN_A, None)]),
        (
            "passportNumber",
            "N1234567 (Iran) expired 1 May 2010; alt. Passport D7654321 (Iran) expired 1 May 2012",
            (),
            [("PASSPORT", "N1234567", "Iran"), ("PASSPORT", "D7654321", "Iran")],
        ),
        (
            "passportNumber",
            "Fictional passport no. 12 3456789, valid from 1.2.2019 until 1.2.2029",
            (),
            [("PASSPORT", "12 3456789", None)],
        ),
        (
            "idNumber",
            "Passport 123456789, National ID No. 123456789012",
            (),
            [("PASSPORT", "123456789", None), ("NATIONAL_ID", "123456789012", None)],
        ),
        ("imoNumber", IMO_VESSEL, (), [("IMO", IMO_VESSEL, None)]),
        (REG, "", RU, []),
    ],
)
def test_identifier_cells(
    column: str, text: str, countries: tuple[str, ...], expected: list[tuple[str, str, str | None]]
) -> None:
    assert identifiers_in(column, text, countries) == expected


def test_invalid_check_digit_is_kept_and_flagged() -> None:
    row = {**CONSOLIDATED_ROWS[0], "registrationNumber": f"{INN_A[:-1]}0 (Tax ID/INN)"}
    identifiers = parse(write_csv(CONSOLIDATED_COLUMNS, [row])).identifiers
    assert identifiers.select("scheme", "is_valid").rows() == [("RU_INN", False)]


def test_blank_lines_are_skipped() -> None:
    lines = CONSOLIDATED.split(b"\n")
    data = b"\n".join([*lines[:2], b"", *lines[2:]])
    assert parse(data).entries.height == len(CONSOLIDATED_ROWS)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty input"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"celex,recordId\n\xff\xfe\n", "not UTF-8"),
        (b"id,name\n1,x\n", "neither `celex` nor"),
        (b"celex,recordId,name\n32014R0833,1,x\n", "header lacks"),
        (write_csv(CONSOLIDATED_COLUMNS, []), "no records"),
        (CONSOLIDATED + b"32014R0833,7,EU-RUS\n", "line 9 has 3 fields"),
        (
            write_csv(CONSOLIDATED_COLUMNS, [CONSOLIDATED_ROWS[0], CONSOLIDATED_ROWS[0]]),
            "entry 32014R0833/IV/1 repeats",
        ),
        (
            write_csv(CONSOLIDATED_COLUMNS, [{**CONSOLIDATED_ROWS[0], "startDate": "31.2.2026"}]),
            "startDate '31.2.2026' is not a date",
        ),
        (
            write_csv(CONSOLIDATED_COLUMNS, [{**CONSOLIDATED_ROWS[0], "name": " "}]),
            "line 2: celex, annex or name is empty",
        ),
    ],
)
def test_malformed_input_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=re.escape(message)):
        parse(data)


def test_a_cut_inside_the_last_column_is_refused() -> None:
    # The last column (`notes`) cut short still gives a record with every field.
    data = write_csv(CONSOLIDATED_COLUMNS, [{**CONSOLIDATED_ROWS[0], "notes": "Two words"}])
    cut = data.rstrip(b"\n")[:-4]
    with pytest.raises(SnapshotFormatError, match="part consolidated: the last record has no"):
        parse(cut)
    assert parse(data).entries["remarks"].to_list()[0].endswith("Two words")


# --- real transcriptions (read from ../shared, never copied) --------------------------------

EU_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data" / "eu"
# Data rows as stated in SOURCES.md.
EU_ROWS = {
    "32014R0833_2026-07-17.csv": 1_746,
    "32014R0269_2026-07-17.csv": 2_802,
    "32026R1848.csv": 157,
    "32026R1843.csv": 216,
}


def shared_bytes(name: str) -> bytes:
    path = EU_DIR / name
    if not path.exists():
        pytest.skip("../shared/reference-data not present: EU transcriptions unavailable")
    return path.read_bytes()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """The rows as the csv module reads them: the independent count."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def parsed_0833() -> ParsedList:
    return parse(shared_bytes("32014R0833_2026-07-17.csv"))


@pytest.mark.shared
@pytest.mark.parametrize(("name", "rows"), EU_ROWS.items())
def test_real_counts(name: str, rows: int) -> None:
    data = shared_bytes(name)
    parsed = parse(data)
    assert parsed.entries.height == len(csv_rows(data)) == rows
    assert parsed.entries["entry_id"].n_unique() == rows
    ru = parsed.identifiers.filter(pl.col("scheme").is_in(["RU_INN", "RU_OGRN"]))
    assert ru["is_valid"].null_count() == 0


@pytest.mark.shared
def test_real_inn_from_registration_number(parsed_0833: ParsedList) -> None:
    rows = csv_rows(shared_bytes("32014R0833_2026-07-17.csv"))
    cells = [row["registrationNumber"] for row in rows]
    # SOURCES.md's 868 is the number of non-empty registrationNumber cells; 622 of them carry
    # the EU's "(Tax ID/INN)" label, which it also puts on Vietnamese, Uzbek, Turkish, ... numbers.
    assert sum(bool(cell) for cell in cells) == 868
    assert sum("(Tax ID/INN)" in cell for cell in cells) == 622
    ten_or_twelve = re.compile(r"(?<!\d)(?:\d{10}|\d{12})(?!\d)")
    labelled = re.compile(r"(?<!\d)(?:\d{10}|\d{12})\s*\((?:Tax ID/INN|INN)\)")
    labelled_russian = sum(
        bool(labelled.search(row["registrationNumber"])) and "Russia" in row["address"]
        for row in rows
    )
    any_shape = sum(bool(ten_or_twelve.search(cell)) for cell in cells)

    inns = parsed_0833.identifiers.filter(pl.col("scheme") == "RU_INN")
    # Only registrationNumber holds identifiers in this file besides imoNumber.
    assert sum(bool(row[c]) for row in rows for c in ("taxNumber", "innCode", "idNumber")) == 0
    assert labelled_russian <= inns.height <= any_shape
    assert (labelled_russian, inns.height, any_shape) == (648, 695, 706)
    assert inns["is_valid"].all()
    assert inns["entry_id"].n_unique() == inns.height  # one INN per entry


@pytest.mark.shared
def test_real_amendment_annex_iv() -> None:
    data = shared_bytes("32026R1848.csv")
    rows = csv_rows(data)
    parsed = parse(data)
    annex_iv = parsed.entries.filter(pl.col("programs").list.contains("833/2014 Annex IV"))
    assert annex_iv.height == sum(row["annex"] == "IV" for row in rows) == 52
    dates = Counter(annex_iv["listing_date"].to_list())
    assert dates == {date(2026, 7, 24): 51, date(2023, 12, 18): 1}  # SOURCES.md
    assert amended_act(data) == "32026R1848"


@pytest.mark.shared
def test_real_amendments_against_consolidated(parsed_0833: ParsedList) -> None:
    assert amended_act(shared_bytes("32014R0833_2026-07-17.csv")) is None
    amendment_1848 = set(parse(shared_bytes("32026R1848.csv")).entries["entry_id"])
    # The re-listed Annex IV entry keeps its consolidated key.
    assert "32014R0833/IV/581" in amendment_1848 & set(parsed_0833.entries["entry_id"])
    # SOURCES.md: none of 2026/1843's designations is in the 2026-07-17 consolidated file.
    consolidated_0269 = set(parse(shared_bytes("32014R0269_2026-07-17.csv")).entries["entry_id"])
    amendment_1843 = parse(shared_bytes("32026R1843.csv"))
    assert not set(amendment_1843.entries["entry_id"]) & consolidated_0269
    assert amended_act(shared_bytes("32026R1843.csv")) == "32026R1843"
