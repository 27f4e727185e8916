"""Tests for the UN consolidated list XML parser: hand-made documents first, then the real files."""

from __future__ import annotations

import gzip
import re
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.sanctions import un_xml
from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
)
from assets.sanctions.parsing import IncompleteSnapshotError
from assets.sanctions.un_xml import PARSER_VERSION, country_code, generated_on

UN_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data" / "un"

# Fictional people and companies; layout and quirks copied from the real list.
SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    dateGenerated="2030-01-02T18:59:59.485-05:00">
  <INDIVIDUALS>
    <INDIVIDUAL><DATAID>1</DATAID><VERSIONNUM>1</VERSIONNUM>
      <FIRST_NAME> ZORVAN </FIRST_NAME><SECOND_NAME>QUILLBY  </SECOND_NAME><THIRD_NAME/>
      <FOURTH_NAME>TESTOV</FOURTH_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER> XXi.001 </REFERENCE_NUMBER>
      <LISTED_ON>2016-11-30</LISTED_ON>
      <NAME_ORIGINAL_SCRIPT> Зорван Квиллби </NAME_ORIGINAL_SCRIPT>
      <COMMENTS1>Fictional test person.
            Second line.
</COMMENTS1>
      <NATIONALITY><VALUE>Democratic People's Republic of Korea </VALUE><VALUE>na</VALUE>
      </NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY/><ALIAS_NAME/></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Zorvan Quilby </ALIAS_NAME>
      </INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME> The Tester</ALIAS_NAME>
      </INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY/><ALIAS_NAME>Z. Quilby</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ADDRESS><COUNTRY/></INDIVIDUAL_ADDRESS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1960-01-01</DATE>
      </INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_PLACE_OF_BIRTH><CITY>Nowhere</CITY><COUNTRY>Syrian Arab Republic</COUNTRY>
      </INDIVIDUAL_PLACE_OF_BIRTH>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER> 000000001</NUMBER>
        <ISSUING_COUNTRY>Democratic People's Republic of Korea</ISSUING_COUNTRY>
      </INDIVIDUAL_DOCUMENT>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>National Identification
          Number</TYPE_OF_DOCUMENT><NUMBER>X-42</NUMBER><COUNTRY_OF_ISSUE>Atlantis</COUNTRY_OF_ISSUE>
      </INDIVIDUAL_DOCUMENT>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Ration card no.</TYPE_OF_DOCUMENT><NUMBER>77</NUMBER>
      </INDIVIDUAL_DOCUMENT>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NOTE>number unknown</NOTE>
      </INDIVIDUAL_DOCUMENT>
      <INDIVIDUAL_DOCUMENT/>
      <SORT_KEY/><SORT_KEY_LAST_MOD/>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY><DATAID>2</DATAID><VERSIONNUM>1</VERSIONNUM>
      <FIRST_NAME>EXAMPLE SHIPPING
            COMPANY </FIRST_NAME>
      <UN_LIST_TYPE> DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>XXe.001</REFERENCE_NUMBER>
      <LISTED_ON>2017-12-22-05:00</LISTED_ON>
      <COMMENTS1>Fictional ship owner. IMO number: 9074729. Company Number IMO 1234560.</COMMENTS1>
      <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>Example Shipping Co</ALIAS_NAME>
      </ENTITY_ALIAS>
      <ENTITY_ALIAS><QUALITY>f.k.a.</QUALITY><ALIAS_NAME>Old Example Lines</ALIAS_NAME>
      </ENTITY_ALIAS>
      <ENTITY_ADDRESS><STREET> 1 Harbour  Road </STREET><CITY>Samplecity</CITY>
        <ZIP_CODE>12345</ZIP_CODE><COUNTRY>Iran (Islamic Republic of)</COUNTRY></ENTITY_ADDRESS>
      <ENTITY_ADDRESS><STATE_PROVINCE>North Province</STATE_PROVINCE><COUNTRY>Atlantis</COUNTRY>
      </ENTITY_ADDRESS>
      <ENTITY_ADDRESS><NOTE>previous location</NOTE></ENTITY_ADDRESS>
      <SORT_KEY/><SORT_KEY_LAST_MOD/>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
""".encode()

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE CONSOLIDATED_LIST [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CONSOLIDATED_LIST dateGenerated="2030-01-02"><ENTITIES><ENTITY>
<FIRST_NAME>&lol9;</FIRST_NAME><REFERENCE_NUMBER>XXe.001</REFERENCE_NUMBER>
</ENTITY></ENTITIES></CONSOLIDATED_LIST>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<CONSOLIDATED_LIST dateGenerated="2030-01-02"><ENTITIES><ENTITY>
<FIRST_NAME>&secret;</FIRST_NAME><REFERENCE_NUMBER>XXe.001</REFERENCE_NUMBER>
</ENTITY></ENTITIES></CONSOLIDATED_LIST>
"""


def parse(data: bytes) -> ParsedList:
    """The registry's call: the file as the snapshot's `consolidated` part."""
    return un_xml.parse({"consolidated": data})


def document(records: str, *, entities: str = "") -> bytes:
    """A minimal list with the given INDIVIDUAL (and ENTITY) elements."""
    return (
        f'<CONSOLIDATED_LIST dateGenerated="2030-01-02"><INDIVIDUALS>{records}</INDIVIDUALS>'
        f"<ENTITIES>{entities}</ENTITIES></CONSOLIDATED_LIST>"
    ).encode()


def individual(reference: str, extra: str = "") -> str:
    return (
        f"<INDIVIDUAL><FIRST_NAME>A</FIRST_NAME><REFERENCE_NUMBER>{reference}</REFERENCE_NUMBER>"
        f"<LISTED_ON>2020-01-01</LISTED_ON>{extra}</INDIVIDUAL>"
    )


# --- hand-made documents ---------------------------------------------------------------------


def test_parser_version() -> None:
    assert PARSER_VERSION == "un-consolidated-xml/1"


def test_small_document_entries() -> None:
    expected = pl.DataFrame(
        {
            "entry_id": ["XXi.001", "XXe.001"],
            "entity_type": ["individual", "entity"],
            "name": ["ZORVAN QUILLBY TESTOV", "EXAMPLE SHIPPING COMPANY"],
            "programs": [["DPRK"], ["DPRK"]],
            "countries": [["KP", "SY"], ["IR"]],
            "listing_date": [date(2016, 11, 30), date(2017, 12, 22)],
            "remarks": [
                "Fictional test person. Second line.",
                "Fictional ship owner. IMO number: 9074729. Company Number IMO 1234560.",
            ],
            "source_row_number": [1, 2],
        },
        schema=ENTRY_SCHEMA,
    )
    assert_frame_equal(parse(SMALL).entries, expected)


def test_small_document_aliases() -> None:
    expected = pl.DataFrame(
        {
            "entry_id": ["XXi.001"] * 4 + ["XXe.001"] * 2,
            "alias": [
                "Зорван Квиллби",
                "Zorvan Quilby",
                "The Tester",
                "Z. Quilby",
                "Example Shipping Co",
                "Old Example Lines",
            ],
            "alias_type": ["original_script", "aka", "aka", "aka", "aka", "fka"],
            "quality": ["strong", "strong", "weak", None, "strong", "strong"],
        },
        schema=ALIAS_SCHEMA,
    )
    assert_frame_equal(parse(SMALL).aliases, expected)


def test_small_document_identifiers() -> None:
    expected = pl.DataFrame(
        {
            "entry_id": ["XXi.001", "XXi.001", "XXi.001", "XXe.001", "XXe.001"],
            "scheme": ["PASSPORT", "NATIONAL_ID", "RATION_CARD_NO", "IMO", "IMO"],
            "value": ["000000001", "X-42", "77", "9074729", "1234560"],
            "country": ["Democratic People's Republic of Korea", "Atlantis", None, None, None],
            "is_valid": [None, None, None, True, False],
        },
        schema=IDENTIFIER_SCHEMA,
    )
    assert_frame_equal(parse(SMALL).identifiers, expected)


def test_small_document_addresses() -> None:
    expected = pl.DataFrame(
        {
            "entry_id": ["XXe.001", "XXe.001"],
            "address": [
                "1 Harbour Road, Samplecity, 12345, Iran (Islamic Republic of)",
                "North Province, Atlantis",
            ],
            "city": ["Samplecity", None],
            "country": ["IR", "Atlantis"],
        },
        schema=ADDRESS_SCHEMA,
    )
    assert_frame_equal(parse(SMALL).addresses, expected)


def test_generated_on() -> None:
    assert generated_on(SMALL) == date(2030, 1, 2)
    assert generated_on(b"<CONSOLIDATED_LIST><INDIVIDUALS/></CONSOLIDATED_LIST>") is None


def test_generated_on_rejects_a_non_date() -> None:
    with pytest.raises(SnapshotFormatError, match="dateGenerated"):
        generated_on(b'<CONSOLIDATED_LIST dateGenerated="yesterday"/>')


def test_empty_sections_give_empty_frames() -> None:
    parsed = parse(document(""))
    assert parsed.entries.height == 0
    assert dict(parsed.entries.schema) == ENTRY_SCHEMA
    assert dict(parsed.identifiers.schema) == IDENTIFIER_SCHEMA


def test_country_code() -> None:
    assert country_code("Iran (Islamic Republic of)") == "IR"
    assert country_code("Democratic People’s Republic of Korea") == "KP"
    assert country_code("Syrian Arab Republic") == "SY"
    assert country_code("RPDC") == "KP"
    assert country_code("United Kingdom of Great Britain and Northern Ireland") == "GB"
    assert country_code("Pakistani") == "PK"
    assert country_code("na") is None  # "not available", not Namibia
    assert country_code("Sudan/South Sudan") is None
    assert country_code("Atlantis") is None
    assert country_code(None) is None


# (document, what parse says, what generated_on says): parse checks completeness first.
BAD_DOCUMENTS = [
    pytest.param(BILLION_LAUGHS, "DTD or entity declaration", None, id="billion-laughs"),
    pytest.param(EXTERNAL_ENTITY, "DTD or entity declaration", None, id="external-entity"),
    pytest.param(b"", "empty input", None, id="empty"),
    pytest.param(b"  \n", "empty input", None, id="blank"),
    pytest.param(b"ent_num,name\n1,foo\n", "not an XML document", "not well-formed XML", id="csv"),
    pytest.param(
        b"<CONSOLIDATED_LIST><INDIVIDUALS>",
        "part consolidated: the root <CONSOLIDATED_LIST> has no dateGenerated",
        "not well-formed XML",
        id="truncated",
    ),
    pytest.param(
        b"<sdnList><sdnEntry/></sdnList>", "root element is <sdnList>", None, id="wrong-root"
    ),
    pytest.param(gzip.compress(SMALL), "gzip", None, id="gzip"),
]


@pytest.mark.parametrize(("data", "message", "_"), BAD_DOCUMENTS)
def test_parse_rejects_bad_document(data: bytes, message: str, _: str | None) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse(data)


@pytest.mark.parametrize(("data", "message", "other"), BAD_DOCUMENTS)
def test_generated_on_rejects_bad_document(data: bytes, message: str, other: str | None) -> None:
    with pytest.raises(SnapshotFormatError, match=other or message):
        generated_on(data)


def test_list_without_sections() -> None:
    with pytest.raises(IncompleteSnapshotError, match="lacks <INDIVIDUALS>, <ENTITIES>"):
        parse(b'<CONSOLIDATED_LIST dateGenerated="2030-01-02"/>')
    # Tag names inside a comment pass the byte-level check; the parser still finds no section.
    commented = b'<CONSOLIDATED_LIST dateGenerated="2030-01-02"><!-- <INDIVIDUALS/><ENTITIES/> -->'
    with pytest.raises(SnapshotFormatError, match="neither INDIVIDUALS nor ENTITIES"):
        parse(commented + b"</CONSOLIDATED_LIST>")


def test_duplicate_reference_number_is_named() -> None:
    data = document(individual("XXi.001") + individual(" XXi.002") + individual("XXi.002 "))
    with pytest.raises(SnapshotFormatError, match=r"duplicate REFERENCE_NUMBER 'XXi\.002'"):
        parse(data)


def test_missing_reference_number() -> None:
    with pytest.raises(SnapshotFormatError, match="no REFERENCE_NUMBER"):
        parse(document(individual("  ")))


def test_unparseable_listing_date() -> None:
    data = document(
        "<INDIVIDUAL><REFERENCE_NUMBER>XXi.001</REFERENCE_NUMBER>"
        "<LISTED_ON>30 Nov. 2016</LISTED_ON></INDIVIDUAL>"
    )
    with pytest.raises(SnapshotFormatError, match=r"XXi\.001: LISTED_ON '30 Nov\. 2016'"):
        parse(data)


def test_unknown_alias_quality() -> None:
    alias = (
        "<INDIVIDUAL_ALIAS><QUALITY>Medium</QUALITY><ALIAS_NAME>B</ALIAS_NAME></INDIVIDUAL_ALIAS>"
    )
    with pytest.raises(SnapshotFormatError, match="unknown QUALITY 'Medium'"):
        parse(document(individual("XXi.001", alias)))


def test_unexpected_record_in_section() -> None:
    with pytest.raises(SnapshotFormatError, match="<INDIVIDUALS> contains <ENTITY>"):
        parse(document("<ENTITY><REFERENCE_NUMBER>XXe.1</REFERENCE_NUMBER></ENTITY>"))


def test_missing_listing_date_and_name_are_null() -> None:
    parsed = parse(document("<INDIVIDUAL><REFERENCE_NUMBER>XXi.9</REFERENCE_NUMBER></INDIVIDUAL>"))
    assert parsed.entries.select("name", "listing_date", "programs", "countries").row(0) == (
        None,
        None,
        [],
        [],
    )


# --- real files ------------------------------------------------------------------------------

REAL_FILES = {
    "consolidated_2018-10-29.xml": (date(2018, 10, 29), 703, 390),
    "un_2022-09-15.xml": (date(2022, 9, 15), 699, 253),
}


def real_bytes(name: str) -> bytes:
    path = UN_DIR / name
    if not path.exists():
        pytest.skip("../shared/reference-data not present: real UN XML unavailable")
    return path.read_bytes()


@pytest.fixture(scope="module")
def real_lists() -> dict[str, ParsedList]:
    return {name: parse(real_bytes(name)) for name in REAL_FILES}


@pytest.mark.shared
@pytest.mark.parametrize("name", list(REAL_FILES))
def test_real_counts(name: str, real_lists: dict[str, ParsedList]) -> None:
    data = real_bytes(name)
    as_of, individuals, entities = REAL_FILES[name]
    counted = {
        "individual": len(re.findall(rb"<INDIVIDUAL[\s>]", data)),
        "entity": len(re.findall(rb"<ENTITY[\s>]", data)),
    }
    assert counted == {"individual": individuals, "entity": entities}  # SOURCES.md

    entries = real_lists[name].entries
    observed = dict(entries.group_by("entity_type").len().iter_rows())
    assert observed == counted
    assert entries["entry_id"].is_unique().all()
    assert entries["source_row_number"].to_list() == list(range(1, entries.height + 1))
    assert generated_on(data) == as_of


@pytest.mark.shared
@pytest.mark.parametrize("name", list(REAL_FILES))
def test_real_names_and_dates_are_present(name: str, real_lists: dict[str, ParsedList]) -> None:
    entries = real_lists[name].entries
    assert entries["name"].null_count() == 0
    assert entries["listing_date"].null_count() == 0
    assert entries["programs"].list.len().min() == 1


@pytest.mark.shared
@pytest.mark.parametrize("name", list(REAL_FILES))
def test_real_values_are_trimmed(name: str, real_lists: dict[str, ParsedList]) -> None:
    parsed = real_lists[name]
    for frame in (parsed.entries, parsed.aliases, parsed.identifiers, parsed.addresses):
        for column in frame.select(pl.col(pl.String)).columns:
            values = frame[column].drop_nulls()
            assert (values == values.str.strip_chars()).all(), column
            assert not values.str.contains(r"\s\s|\n").any(), column
            assert not (values == "").any(), column
    countries = parsed.entries["countries"].explode().drop_nulls()
    assert countries.str.contains(r"^[A-Z]{2}$").all()


@pytest.mark.shared
def test_real_added_and_removed(real_lists: dict[str, ParsedList]) -> None:
    before, after = (set(real_lists[n].entries["entry_id"]) for n in REAL_FILES)
    assert len(after - before) == 45
    assert len(before - after) == 186


@pytest.mark.shared
@pytest.mark.parametrize("name", list(REAL_FILES))
def test_real_parse_time(name: str) -> None:
    data = real_bytes(name)
    started = time.perf_counter()
    parse(data)
    elapsed = time.perf_counter() - started
    print(f"{name}: parsed in {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0
