"""Tests for the OpenSanctions parsers: fictional FtM, CSV and delta fixtures, then real samples."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
)
from assets.sanctions.opensanctions_ftm import (
    DELTA_SCHEMA,
    PARSER_VERSION,
    apply_deltas,
    delta_versions,
    parse,
    parse_delta,
    parse_entities,
    parse_simple_csv,
)

# Fictional numbers with valid check digits (python-stdnum).
INN_COMPANY = "9901000027"
INN_PERSON = "990100004441"
OGRN_COMPANY = "1099900000034"
IMO_VESSEL = "9000003"
LEI_COMPANY = "9999000FICTION000008"


def line(entity: dict[str, Any]) -> bytes:
    return json.dumps(entity, ensure_ascii=False).encode()


COMPANY = {
    "id": "NK-fict-company",
    "caption": "Fictitious Machine Tools LLC",
    "schema": "Company",
    "properties": {
        "name": ["ООО Фиктивные Станки", "Fictitious Machine Tools LLC"],
        "alias": ["FMT LLC"],
        "weakAlias": ["FMT"],
        "previousName": ["Imaginary Lathes LLC"],
        "innCode": [INN_COMPANY],
        "ogrnCode": [OGRN_COMPANY],
        "leiCode": [LEI_COMPANY],
        "imoNumber": ["1234567"],
        "country": ["ru"],
        "jurisdiction": ["ru"],
        "address": ["Vymyshlennaya St. 1, Testograd, Russia"],
        "addressEntity": ["addr-fict-1"],
        "notes": ["Fictional maker of test lathes."],
        "summary": ["Made up for tests."],
        "createdAt": ["2024-02-23"],
    },
    "referents": ["xx-fict-1"],
    "datasets": ["test"],
    "target": True,
}
ADDRESS = {
    "id": "NK-fict-address",
    "caption": "Testovaya St. 2, Testograd",
    "schema": "Address",
    "properties": {
        "full": ["Testovaya St. 2, Testograd"],
        "city": ["Testograd"],
        "country": ["ru"],
    },
    "referents": ["addr-fict-1"],
    "target": False,
}
SANCTION = {
    "id": "NK-fict-sanction",
    "schema": "Sanction",
    "properties": {
        "entity": ["NK-fict-company"],
        "programId": ["EU-RUS"],
        "program": ["Regulation 833/2014 (fictional)"],
        "listingDate": ["2023-12-18"],
        "startDate": ["2023-12-19"],
    },
    "target": False,
}
PERSON = {
    "id": "NK-fict-person",
    "schema": "Person",
    "properties": {
        "name": ["Ivan Testovich PRIMEROV", "Иван Тестович ПРИМЕРОВ"],
        "taxNumber": [INN_PERSON],
        "passportNumber": ["4510 123456"],
        "nationality": ["ru"],
        "citizenship": ["ru"],
        "program": ["Fictional programme"],
        "createdAt": ["2022-04-08", "2022-03-15"],
        "birthDate": ["1970-01-01"],
    },
    "target": True,
}
VESSEL = {
    "id": "NK-fict-vessel",
    "caption": "SEA TESTER",
    "schema": "Vessel",
    "properties": {"name": ["SEA TESTER"], "imoNumber": [IMO_VESSEL], "country": ["pa"]},
    "target": True,
}
OWNERSHIP = {
    "id": "NK-fict-ownership",
    "schema": "Ownership",
    "properties": {"owner": ["NK-fict-person"], "asset": ["NK-fict-company"]},
    "target": False,
}
RELATIVE = {
    "id": "NK-fict-relative",
    "caption": "Maria PRIMEROVA",
    "schema": "Person",
    "properties": {"name": ["Maria PRIMEROVA"]},
    "target": False,
}
AIRPLANE = {
    "id": "NK-fict-plane",
    "caption": "RA-00000",
    "schema": "Airplane",
    "properties": {"createdAt": ["2021"], "country": ["ua-cri", "suhh", "zz"]},
    "target": True,
}
WALLET = {
    "id": "NK-fict-wallet",
    "caption": "0xFICTIONAL",
    "schema": "CryptoWallet",
    "properties": {},
}

FTM = b"\n".join(
    [
        line(COMPANY),
        line(ADDRESS),
        line(SANCTION),
        line(PERSON),
        b"",
        line(VESSEL),
        line(OWNERSHIP),
        line(RELATIVE),
        line(AIRPLANE),
        line(WALLET),
    ]
)  # no trailing newline, like the real sample


@pytest.fixture(scope="module")
def parsed() -> ParsedList:
    return parse_entities(FTM)


def test_version() -> None:
    assert PARSER_VERSION == "opensanctions-ftm/1"


def test_parse_reads_the_entities_part(parsed: ParsedList) -> None:
    assert parse({"entities": FTM}).entries.equals(parsed.entries)


def test_a_line_separator_inside_a_json_string_is_not_a_line_break() -> None:
    data = json.dumps({**COMPANY, "caption": "North\u2028South LLC"}, ensure_ascii=False)
    assert "\u2028" in data
    assert parse_entities(data.encode()).entries["name"].to_list() == ["North\u2028South LLC"]


def test_only_targets_become_entries(parsed: ParsedList) -> None:
    entries = parsed.entries
    assert dict(entries.schema) == ENTRY_SCHEMA
    assert entries.select("entry_id", "entity_type", "source_row_number").rows() == [
        ("NK-fict-company", "entity", 1),
        ("NK-fict-person", "individual", 4),
        ("NK-fict-vessel", "vessel", 6),
        ("NK-fict-plane", "aircraft", 9),
        ("NK-fict-wallet", "unknown", 10),
    ]


def test_name_is_caption_else_first_name(parsed: ParsedList) -> None:
    names = dict(parsed.entries.select("entry_id", "name").rows())
    assert names["NK-fict-company"] == "Fictitious Machine Tools LLC"
    assert names["NK-fict-person"] == "Ivan Testovich PRIMEROV"
    assert names["NK-fict-plane"] == "RA-00000"


def test_sanction_entity_gives_programs_and_listing_date(parsed: ParsedList) -> None:
    rows = {r["entry_id"]: r for r in parsed.entries.to_dicts()}
    company, person = rows["NK-fict-company"], rows["NK-fict-person"]
    assert company["programs"] == ["EU-RUS"]  # programId wins over program text
    assert company["listing_date"] == date(2023, 12, 18)  # the sanction's, not createdAt
    assert person["programs"] == ["Fictional programme"]
    assert person["listing_date"] == date(2022, 3, 15)  # earliest createdAt
    assert rows["NK-fict-plane"]["listing_date"] is None  # partial date "2021"
    assert rows["NK-fict-vessel"]["programs"] == []


def test_countries_and_remarks(parsed: ParsedList) -> None:
    rows = {r["entry_id"]: r for r in parsed.entries.to_dicts()}
    assert rows["NK-fict-company"]["countries"] == ["RU"]
    assert rows["NK-fict-vessel"]["countries"] == ["PA"]
    assert rows["NK-fict-plane"]["countries"] == ["UA"]  # ua-cri -> UA; suhh, zz dropped
    assert (
        rows["NK-fict-company"]["remarks"] == "Fictional maker of test lathes.\nMade up for tests."
    )
    assert rows["NK-fict-vessel"]["remarks"] is None


def test_aliases(parsed: ParsedList) -> None:
    aliases = parsed.aliases
    assert dict(aliases.schema) == ALIAS_SCHEMA
    company = aliases.filter(pl.col("entry_id") == "NK-fict-company")
    assert company.select("alias", "alias_type", "quality").rows() == [
        ("ООО Фиктивные Станки", "aka", "strong"),
        ("FMT LLC", "aka", "strong"),
        ("FMT", "aka", "weak"),
        ("Imaginary Lathes LLC", "fka", None),
    ]
    person = aliases.filter(pl.col("entry_id") == "NK-fict-person")
    assert person["alias"].to_list() == ["Иван Тестович ПРИМЕРОВ"]


def test_identifiers(parsed: ParsedList) -> None:
    identifiers = parsed.identifiers
    assert dict(identifiers.schema) == IDENTIFIER_SCHEMA
    assert sorted(identifiers.select("entry_id", "scheme", "value", "is_valid").rows()) == [
        ("NK-fict-company", "IMO_COMPANY", "1234567", None),
        ("NK-fict-company", "LEI", LEI_COMPANY, True),
        ("NK-fict-company", "RU_INN", INN_COMPANY, True),
        ("NK-fict-company", "RU_OGRN", OGRN_COMPANY, True),
        ("NK-fict-person", "PASSPORT", "4510 123456", None),
        ("NK-fict-person", "RU_INN", INN_PERSON, True),  # taxNumber of a Russian national
        ("NK-fict-vessel", "IMO", IMO_VESSEL, True),
    ]


def test_invalid_check_digit_is_kept_and_flagged() -> None:
    bad = {**PERSON, "properties": {"name": ["X"], "innCode": [INN_COMPANY[:-1] + "0"]}}
    identifiers = parse_entities(line(bad)).identifiers
    assert identifiers.select("scheme", "is_valid").rows() == [("RU_INN", False)]


def test_foreign_tax_number_stays_tax_id() -> None:
    foreign = {
        **PERSON,
        "properties": {"name": ["X"], "taxNumber": [INN_PERSON], "country": ["kz"]},
    }
    assert parse_entities(line(foreign)).identifiers["scheme"].to_list() == ["TAX_ID"]


def test_addresses_from_property_and_linked_entity(parsed: ParsedList) -> None:
    addresses = parsed.addresses
    assert dict(addresses.schema) == ADDRESS_SCHEMA
    assert addresses.rows() == [
        ("NK-fict-company", "Vymyshlennaya St. 1, Testograd, Russia", None, "RU"),
        # addressEntity names the Address by one of its referents
        ("NK-fict-company", "Testovaya St. 2, Testograd", "Testograd", "RU"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (line(COMPANY) + b"\n" + line(PERSON) + b'\n{"id": "x", "schema": ', "line 3"),
        (b"\n\n[1, 2]\n", "line 3 is not a JSON object"),
        (line({"schema": "Person", "properties": {}}), "has no `id`"),
        (line({"id": "x", "properties": {}}), "has no `schema`"),
        (line(COMPANY) + b"\n" + line(COMPANY), "line 2: entity id NK-fict-company repeats"),
        (line({"id": "x", "schema": "Person", "properties": {}}), "has no name"),
        (b"  \n", "empty input"),
        (b"\x1f\x8b\x08\x00", "gzip"),
    ],
)
def test_malformed_input_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse_entities(data)


# --- targets.simple CSV ---------------------------------------------------------------------

SIMPLE_HEADER = (
    "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,"
    "dataset,first_seen,last_seen,last_change"
)
SIMPLE_CSV = (
    SIMPLE_HEADER
    + "\n"
    + "NK-fict-company,Company,Fictitious Machine Tools LLC,"
    + '"FMT LLC;""Fict; Tools OOO""",,ru;ua-cri,"Testovaya St. 2, Testograd",'
    + f'{INN_COMPANY};{OGRN_COMPANY},"EU-RUS - Supports the test industry - 2023-12-18",'
    + ",,Fictional Dataset,2024-01-01T00:00:00,2024-02-01T00:00:00,2024-01-15T00:00:00\n"
    + "NK-fict-person,Person,Ivan PRIMEROV,,1970-01-01,,,,,,,Fictional Dataset,"
    + "2024-01-01T00:00:00,2024-02-01T00:00:00,2024-01-15T00:00:00\n"
).encode()


def test_simple_csv() -> None:
    parsed = parse_simple_csv(SIMPLE_CSV)
    assert parsed.entries.select("entry_id", "entity_type", "name", "countries").rows() == [
        ("NK-fict-company", "entity", "Fictitious Machine Tools LLC", ["RU", "UA"]),
        ("NK-fict-person", "individual", "Ivan PRIMEROV", []),
    ]
    company = parsed.entries.row(0, named=True)
    assert company["listing_date"] is None
    assert company["programs"] == []
    assert company["remarks"] == "EU-RUS - Supports the test industry - 2023-12-18"
    assert company["source_row_number"] == 1
    # A value holding `;` is quoted inside the cell (the cell is itself `;`-separated CSV).
    assert parsed.aliases.select("alias", "alias_type", "quality").rows() == [
        ("FMT LLC", "aka", None),
        ("Fict; Tools OOO", "aka", None),
    ]
    assert parsed.identifiers.select("scheme", "value", "is_valid").rows() == [
        ("OTHER", INN_COMPANY, None),
        ("OTHER", OGRN_COMPANY, None),
    ]
    assert parsed.addresses.select("address").rows() == [("Testovaya St. 2, Testograd",)]


def test_simple_csv_program_ids_column() -> None:
    rows = [
        ["id", "schema", "name", "program_ids"],
        ["NK-fict-vessel", "Vessel", "SEA TESTER", "EU-RUS;GB-RUS"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    parsed = parse_simple_csv(buffer.getvalue().encode())
    assert parsed.entries.row(0, named=True)["programs"] == ["EU-RUS", "GB-RUS"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"identifier,kind\nx,y\n", "not a targets.simple CSV"),
        (SIMPLE_HEADER.encode() + b"\n", "no records"),
        (SIMPLE_HEADER.encode() + b"\nNK-x,Person,Name\n", "line 2 has 3 fields"),
    ],
)
def test_simple_csv_malformed(data: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse_simple_csv(data)


# --- deltas ---------------------------------------------------------------------------------


def op(kind: str, entity: dict[str, Any]) -> bytes:
    return json.dumps({"op": kind, "entity": entity}, ensure_ascii=False).encode()


RENAMED = {**VESSEL, "caption": "SEA TESTER II", "properties": {"name": ["SEA TESTER II"]}}
NEWCOMER = {"id": "NK-fict-new", "caption": "New Test Co", "schema": "Company", "target": True}
DELTA_1 = op("ADD", NEWCOMER) + b"\n" + op("MOD", RENAMED) + b"\n"
DELTA_2 = op("DEL", {"id": "NK-fict-person"}) + b"\n" + op("DEL", {"id": "NK-not-there"})


def test_parse_delta() -> None:
    frame = parse_delta(DELTA_1)
    assert dict(frame.schema) == DELTA_SCHEMA
    assert frame.select("op", "entry_id").rows() == [
        ("ADD", "NK-fict-new"),
        ("MOD", "NK-fict-vessel"),
    ]
    assert json.loads(frame["entity_json"][1]) == RENAMED
    assert parse_delta(b"").height == 0  # an empty version is valid


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (DELTA_1 + b'{"op": "ADD", "entity": {"id": ', "line 3 is not valid JSON"),
        (b'{"op": "UPSERT", "entity": {"id": "x"}}', "line 1: delta op 'UPSERT'"),
        (b'{"op": "ADD", "entity": {"id": "x"}}', "has no `schema`"),
        (b'{"op": "DEL"}', "line 1 is not a JSON object"),
    ],
)
def test_parse_delta_malformed(data: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse_delta(data)


def test_apply_deltas_over_a_base(parsed: ParsedList) -> None:
    result = apply_deltas(parsed, [DELTA_1, b"", DELTA_2])
    assert result.entries["entry_id"].to_list() == [
        "NK-fict-company",
        "NK-fict-plane",
        "NK-fict-wallet",
        "NK-fict-new",
        "NK-fict-vessel",
    ]
    vessel = result.entries.filter(pl.col("entry_id") == "NK-fict-vessel").row(0, named=True)
    assert vessel["name"] == "SEA TESTER II"
    assert vessel["source_row_number"] == 2  # its line in the delta file
    # The replaced and the deleted entries lose their old rows in every table.
    for frame in (result.aliases, result.identifiers):
        assert frame.filter(
            pl.col("entry_id").is_in(["NK-fict-person", "NK-fict-vessel"])
        ).is_empty()
    assert result.identifiers.filter(pl.col("entry_id") == "NK-fict-company").height == 4


def test_apply_deltas_without_base() -> None:
    result = apply_deltas(None, [DELTA_1, op("DEL", {"id": "NK-fict-new"})])
    assert result.entries["entry_id"].to_list() == ["NK-fict-vessel"]
    assert apply_deltas(None, []).entries.is_empty()


def test_delta_versions_are_sorted() -> None:
    index = b'{"versions": {"20240102-b": "u2", "20240101-a": "u1"}, "updated_at": "x"}'
    assert delta_versions(index) == ["20240101-a", "20240102-b"]
    with pytest.raises(SnapshotFormatError, match="no `versions`"):
        delta_versions(b"{}")


# --- real samples (read from ../shared, never copied) ---------------------------------------

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data"
OPENSANCTIONS_DIR = SHARED / "opensanctions"
DELTA_DIR = OPENSANCTIONS_DIR / "yente-fixture-t2-deltas"


def shared_bytes(relative: str) -> bytes:
    path = OPENSANCTIONS_DIR / relative
    if not path.exists():
        pytest.skip("../shared/reference-data not present: OpenSanctions samples unavailable")
    return path.read_bytes()


@pytest.mark.shared
def test_real_entities_sample() -> None:
    data = shared_bytes("entities.ftm_eu_fsf_sample_2024-06.json")
    objects = [json.loads(text) for text in data.decode().splitlines() if text.strip()]
    assert len(objects) == 7  # SOURCES.md: "6 lines / 7 entities" (no trailing newline)
    parsed = parse_entities(data)
    targets = [obj for obj in objects if obj.get("target") is True]
    assert parsed.entries.height == len(targets) == 6
    assert sorted(parsed.entries["name"]) == sorted(obj["caption"] for obj in targets)
    by_schema: dict[str, int] = {}
    for obj in targets:
        kind = {"Person": "individual", "Organization": "entity"}[obj["schema"]]
        by_schema[kind] = by_schema.get(kind, 0) + 1
    assert dict(parsed.entries.group_by("entity_type").len().rows()) == by_schema
    # Every name and alias of a target, minus the caption, is an alias row.
    expected_aliases = sum(
        len(set(obj["properties"].get("name", [])) - {obj["caption"]}) for obj in targets
    )
    assert parsed.aliases.height == expected_aliases
    # Tax and registration numbers: one identifier each, check digits where a checker exists.
    expected_ids = sum(
        len(obj["properties"].get(prop, []))
        for obj in targets
        for prop in ("taxNumber", "registrationNumber")
    )
    assert parsed.identifiers.height == expected_ids
    assert parsed.identifiers.filter(pl.col("scheme") == "RU_INN")["is_valid"].to_list() == [True]
    # The sample's one Address entity is linked to no target in the file.
    assert parsed.addresses.is_empty()
    assert parsed.entries["listing_date"].null_count() == 0


@pytest.mark.shared
def test_real_simple_csv() -> None:
    data = shared_bytes("targets.simple_wd_persons_2024-03-10.csv")
    rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    parsed = parse_simple_csv(data)
    assert parsed.entries.height == len(rows) == 5
    assert parsed.entries["entry_id"].to_list() == [row["id"] for row in rows]
    assert parsed.aliases.height == sum(len(row["aliases"].split(";")) for row in rows)
    countries = {row["id"]: sorted(row["countries"].upper().split(";")) for row in rows}
    assert dict(parsed.entries.select("entry_id", "countries").rows()) == countries


@pytest.mark.shared
def test_real_deltas_replay_to_the_index_state() -> None:
    index = shared_bytes("yente-fixture-t2-deltas/delta.json")
    versions = delta_versions(index)
    files = [shared_bytes(f"yente-fixture-t2-deltas/entities.delta_{v}.json") for v in versions]

    # Independent replay with the json module: ADD/MOD put the id in, DEL takes it out.
    alive: set[str] = set()
    ops = 0
    for version in sorted(json.loads(index)["versions"]):
        text = (DELTA_DIR / f"entities.delta_{version}.json").read_text()
        for record in (json.loads(t) for t in text.splitlines() if t.strip()):
            ops += 1
            if record["op"] == "DEL":
                alive.discard(record["entity"]["id"])
            else:
                alive.add(record["entity"]["id"])
    assert ops == 6  # SOURCES.md: 2 ADD, ADD + MOD, DEL, ADD, one empty version
    assert len(alive) == 3

    assert [parse_delta(data).height for data in files] == [0, 2, 2, 1, 1]
    result = apply_deltas(None, files)
    assert set(result.entries["entry_id"]) == alive
    # The MOD renamed the entity the first version added.
    modified = [parse_delta(data).filter(pl.col("op") == "MOD") for data in files]
    mod = pl.concat(modified).row(0, named=True)
    caption = json.loads(mod["entity_json"])["caption"]
    assert result.entries.filter(pl.col("entry_id") == mod["entry_id"])["name"].to_list() == [
        caption
    ]
