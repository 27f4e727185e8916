"""Tests for the EU FSF parser: one fictional list written in both layouts, then the edge cases."""

from __future__ import annotations

import csv
import io
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.sanctions.eu_fsf import PARSER_VERSION, parse, parse_csv, parse_xml
from assets.sanctions.model import (
    ADDRESS_SCHEMA,
    ALIAS_SCHEMA,
    ENTRY_SCHEMA,
    IDENTIFIER_SCHEMA,
    ParsedList,
    SnapshotFormatError,
)

# Valid check digits (python-stdnum), fictional numbers.
INN_ENTITY = "9901000010"
OGRN_ENTITY = "1099900000023"
OGRN_IN_REMARK = "1099900000012"
INN_PERSON_BAD = "990100001233"  # the valid one ends ...232

REMARK = f"Fictional manufacturer of test instruments;  OGRN {OGRN_IN_REMARK}."
REGULATION = (
    'regulationType="regulation" organisationType="council" publicationDate="2022-04-08" '
    'entryIntoForceDate="2022-04-09" numberTitle="2022/999 (OJ L 999)"'
)

XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2026-08-05T16:47:04.449+02:00"
        globalFileId="990001">
  <sanctionEntity designationDetails="" unitedNationId="" euReferenceNumber="EU.9901.11"
                  logicalId="990011" designationDate="2022-04-08">
    <remark>{REMARK}</remark>
    <regulation {REGULATION} programme="RUS" logicalId="880001">
      <publicationUrl>https://eur-lex.europa.eu/fictional-1</publicationUrl>
    </regulation>
    <regulation {REGULATION} programme="UKR" logicalId="880002">
      <publicationUrl>https://eur-lex.europa.eu/fictional-2</publicationUrl>
    </regulation>
    <subjectType code="enterprise" classificationCode="E"/>
    <nameAlias firstName="" middleName="" lastName="" wholeName="Fictitious Instruments JSC"
               function="" gender="" title="" nameLanguage="EN" strong="true"
               regulationLanguage="en" logicalId="770001">
      <regulationSummary regulationType="regulation" publicationDate="2022-04-08"
                         numberTitle="2022/999 (OJ L 999)"/>
    </nameAlias>
    <nameAlias wholeName="АО Фиктивные Приборы" nameLanguage="RU" strong="true"
               logicalId="770002"/>
    <nameAlias wholeName="FIJSC" strong="false" logicalId="770003"/>
    <address city="Moscow" street="Vymyshlennaya St. 12" poBox="" zipCode="101000" region=""
             place="" asAtListingTime="false" countryIso2Code="RU"
             countryDescription="RUSSIAN FEDERATION" regulationLanguage="en" logicalId="660001">
      <contactInfo key="PHONE" value="+7 000 000 00 00"/>
    </address>
    <identification diplomatic="false" knownExpired="false" knownFalse="false"
                    reportedLost="false" revokedByIssuer="false" issuedBy="" latinNumber=""
                    nameOnDocument="" number="{INN_ENTITY} (Tax ID/INN)" region=""
                    countryIso2Code="RU" countryDescription="RUSSIAN FEDERATION"
                    identificationTypeCode="regnumber"
                    identificationTypeDescription="Registration Number"
                    regulationLanguage="en" logicalId="550001"/>
    <identification number="{OGRN_ENTITY}" identificationTypeCode="regnumber"
                    identificationTypeDescription="Registration Number" countryIso2Code="RU"
                    countryDescription="RUSSIAN FEDERATION" logicalId="550002"/>
    <identification number="FICTRUMM" identificationTypeCode="swiftbic"
                    identificationTypeDescription="SWIFT BIC" countryIso2Code="RU"
                    countryDescription="RUSSIAN FEDERATION" logicalId="550003"/>
  </sanctionEntity>
  <sanctionEntity unitedNationId="" euReferenceNumber="EU.9902.22" logicalId="990022"
                  designationDate="2023-02-25">
    <regulation {REGULATION} programme="RUS" logicalId="880001"/>
    <subjectType code="person" classificationCode="P"/>
    <nameAlias firstName="Anna" middleName="" lastName="Testova" wholeName="Anna Testova"
               gender="F" strong="true" logicalId="770011"/>
    <nameAlias wholeName="Anya Testova" strong="false" logicalId="770012"/>
    <nameAlias wholeName="Анна Тестова" nameLanguage="RU" strong="true" logicalId="770013"/>
    <citizenship region="" countryIso2Code="RU" countryDescription="RUSSIAN FEDERATION"
                 logicalId="440011"/>
    <citizenship region="" countryIso2Code="BY" countryDescription="BELARUS"
                 logicalId="440012"/>
    <birthdate circa="false" calendarType="GREGORIAN" city="Fictionsk" birthdate="1975-06-01"
               dayOfMonth="1" monthOfYear="6" year="1975" countryIso2Code="RU"
               countryDescription="RUSSIAN FEDERATION" logicalId="330011"/>
    <identification number="750000003" identificationTypeCode="passport"
                    identificationTypeDescription="National passport" countryIso2Code="RU"
                    countryDescription="RUSSIAN FEDERATION" logicalId="550011"/>
    <identification number="{INN_PERSON_BAD}" identificationTypeCode="fiscalcode"
                    identificationTypeDescription="Fiscal code" countryIso2Code="RU"
                    countryDescription="RUSSIAN FEDERATION" logicalId="550012"/>
    <address city="" street="" poBox="" zipCode="" countryIso2Code="00"
             countryDescription="UNKNOWN" logicalId="660011"/>
  </sanctionEntity>
  <sanctionEntity unitedNationId="QDe.999" logicalId="990033">
    <regulation {REGULATION} programme="TERR" logicalId="880003"/>
    <subjectType code="enterprise" classificationCode="E"/>
    <nameAlias wholeName="Shadow Front" strong="false" logicalId="770031"/>
    <nameAlias wholeName="Front of Shadows" strong="true" logicalId="770032"/>
    <nameAlias wholeName="Shadow Front Brigade" logicalId="770033">
      <remark>Low quality alias.</remark>
    </nameAlias>
    <address city="Utopia City" countryIso2Code="" countryDescription="UTOPIA"
             logicalId="660031"/>
  </sanctionEntity>
</export>
""".encode()

# The CSV export's columns in file order (after moov-io/watchman pkg/csl_eu/csl.go); the
# optional NameAlias_Strong column is appended to the name-alias block.
REGULATION_COLUMNS = (
    "Type",
    "OrganisationType",
    "PublicationDate",
    "EntryIntoForceDate",
    "NumberTitle",
    "Programme",
    "PublicationUrl",
)


def _block(prefix: str, names: str) -> list[str]:
    own = [f"{prefix}_{name}" for name in names.split()]
    return own + [f"{prefix}_Regulation_{name}" for name in REGULATION_COLUMNS]


HEADER = [
    "fileGenerationDate",
    *_block(
        "Entity",
        "LogicalId EU_ReferenceNumber UnitedNationId DesignationDate DesignationDetails Remark "
        "SubjectType SubjectType_ClassificationCode",
    ),
    *_block(
        "NameAlias",
        "LastName FirstName MiddleName WholeName NameLanguage Gender Title Function LogicalId "
        "RegulationLanguage Remark Strong",
    ),
    *_block(
        "Address",
        "City Street PoBox ZipCode Region Place AsAtListingTime ContactInfo CountryIso2Code "
        "CountryDescription LogicalId RegulationLanguage Remark",
    ),
    *_block(
        "BirthDate",
        "BirthDate Day Month Year YearRangeFrom YearRangeTo Circa CalendarType ZipCode Region "
        "Place City CountryIso2Code CountryDescription LogicalId RegulationLanguage Remark",
    ),
    *_block(
        "Identification",
        "Number Diplomatic KnownExpired KnownFalse ReportedLost RevokedByIssuer IssuedBy "
        "IssuedDate ValidFrom ValidTo LatinNumber NameOnDocument TypeCode TypeDescription "
        "Region CountryIso2Code CountryDescription LogicalId RegulationLanguage Remark",
    ),
    *_block(
        "Citizenship",
        "Region CountryIso2Code CountryDescription LogicalId RegulationLanguage Remark",
    ),
]

ENTITY_1 = {
    "fileGenerationDate": "05/08/2026",
    "Entity_LogicalId": "990011",
    "Entity_EU_ReferenceNumber": "EU.9901.11",
    "Entity_DesignationDate": "2022-04-08",
    "Entity_Remark": REMARK,
    "Entity_SubjectType": "enterprise",
    "Entity_SubjectType_ClassificationCode": "E",
    "Entity_Regulation_Programme": "RUS",
}
ENTITY_2 = {
    **ENTITY_1,
    "Entity_LogicalId": "990022",
    "Entity_EU_ReferenceNumber": "EU.9902.22",
    "Entity_DesignationDate": "2023-02-25",
    "Entity_Remark": "",
    "Entity_SubjectType": "person",
    "Entity_SubjectType_ClassificationCode": "P",
}
ENTITY_3 = {
    **ENTITY_1,
    "Entity_LogicalId": "990033",
    "Entity_EU_ReferenceNumber": "",
    "Entity_UnitedNationId": "QDe.999",
    "Entity_DesignationDate": "",
    "Entity_Remark": "",
    "Entity_Regulation_Programme": "TERR",
}
RU = {"CountryIso2Code": "RU", "CountryDescription": "RUSSIAN FEDERATION"}


def part(prefix: str, **cells: str) -> dict[str, str]:
    return {f"{prefix}_{name}": value for name, value in cells.items()}


ROWS: list[dict[str, str]] = [
    {**ENTITY_1, **part("NameAlias", WholeName="Fictitious Instruments JSC", NameLanguage="EN",
                        Strong="true", LogicalId="770001")},
    {**ENTITY_1, **part("NameAlias", WholeName="АО Фиктивные Приборы", NameLanguage="RU",
                        Strong="true", LogicalId="770002")},
    {**ENTITY_1, **part("NameAlias", WholeName="FIJSC", Strong="false", LogicalId="770003")},
    {**ENTITY_1, **part("Address", City="Moscow", Street="Vymyshlennaya St. 12",
                        ZipCode="101000", ContactInfo="PHONE +7 000 000 00 00",
                        LogicalId="660001", **RU)},
    {**ENTITY_1, **part("Identification", Number=f"{INN_ENTITY} (Tax ID/INN)",
                        TypeCode="regnumber", TypeDescription="Registration Number",
                        LogicalId="550001", **RU)},
    {**ENTITY_1, **part("Identification", Number=OGRN_ENTITY, TypeCode="regnumber",
                        TypeDescription="Registration Number", LogicalId="550002", **RU)},
    {**ENTITY_1, **part("Identification", Number="FICTRUMM", TypeCode="swiftbic",
                        TypeDescription="SWIFT BIC", LogicalId="550003", **RU)},
    # The second regulation comes with a repeated name-alias sub-record (same logicalId).
    {**ENTITY_1, "Entity_Regulation_Programme": "UKR",
     **part("NameAlias", WholeName="Fictitious Instruments JSC", NameLanguage="EN",
            Strong="true", LogicalId="770001")},
    {**ENTITY_2, **part("NameAlias", FirstName="Anna", LastName="Testova",
                        WholeName="Anna Testova", Gender="F", Strong="true", LogicalId="770011")},
    {**ENTITY_2, **part("NameAlias", WholeName="Anya Testova", Strong="false",
                        LogicalId="770012")},
    {**ENTITY_2, **part("NameAlias", WholeName="Анна Тестова", NameLanguage="RU",
                        Strong="true", LogicalId="770013")},
    {**ENTITY_2, **part("Citizenship", LogicalId="440011", **RU)},
    {**ENTITY_2, **part("Citizenship", CountryIso2Code="BY", CountryDescription="BELARUS",
                        LogicalId="440012")},
    {**ENTITY_2, **part("BirthDate", BirthDate="1975-06-01", City="Fictionsk",
                        LogicalId="330011", **RU)},
    {**ENTITY_2, **part("Identification", Number="750000003", TypeCode="passport",
                        TypeDescription="National passport", LogicalId="550011", **RU)},
    {**ENTITY_2, **part("Identification", Number=INN_PERSON_BAD, TypeCode="fiscalcode",
                        TypeDescription="Fiscal code", LogicalId="550012", **RU)},
    {**ENTITY_2, **part("Address", CountryIso2Code="00", CountryDescription="UNKNOWN",
                        LogicalId="660011")},
    {**ENTITY_3, **part("NameAlias", WholeName="Shadow Front", Strong="false",
                        LogicalId="770031")},
    {**ENTITY_3, **part("NameAlias", WholeName="Front of Shadows", Strong="true",
                        LogicalId="770032")},
    {**ENTITY_3, **part("NameAlias", WholeName="Shadow Front Brigade",
                        Remark="Low quality alias.", LogicalId="770033")},
    {**ENTITY_3, **part("Address", City="Utopia City", CountryDescription="UTOPIA",
                        LogicalId="660031")},
]  # fmt: skip


def fsf_csv(rows: list[dict[str, str]], header: list[str] = HEADER) -> bytes:
    """A CSV export as the EU writes it: UTF-8 with a BOM, `;`, CRLF, quotes where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        assert set(row) <= set(HEADER), set(row) - set(HEADER)
        writer.writerow([row.get(name, "") for name in header])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode()


CSV = fsf_csv(ROWS)


def assert_same(left: ParsedList, right: ParsedList) -> None:
    for name in ("entries", "aliases", "identifiers", "addresses"):
        assert_frame_equal(getattr(left, name), getattr(right, name))


def by_entry(frame: pl.DataFrame, entry_id: str, *columns: str) -> list[tuple[object, ...]]:
    return frame.filter(pl.col("entry_id") == entry_id).select(columns).rows()


def test_parser_version() -> None:
    assert PARSER_VERSION == "eu-fsf/1"


def test_parse_reads_either_layout_of_the_part() -> None:
    for data, reader in ((XML, parse_xml), (CSV, parse_csv)):
        parsed, direct = parse({"eu_fsf": data}), reader(data)
        for table in ("entries", "aliases", "identifiers", "addresses"):
            assert getattr(parsed, table).equals(getattr(direct, table))
    assert parse({"eu_fsf": XML}).entries.height == 3


def test_xml_entries() -> None:
    entries = parse_xml(XML).entries

    assert dict(entries.schema) == ENTRY_SCHEMA
    assert entries.rows(named=True) == [
        {
            "entry_id": "EU.9901.11",
            "entity_type": "entity",
            "name": "Fictitious Instruments JSC",
            "programs": ["RUS", "UKR"],
            "countries": ["RU"],
            "listing_date": date(2022, 4, 8),
            "remarks": f"Fictional manufacturer of test instruments; OGRN {OGRN_IN_REMARK}.",
            "source_row_number": 1,
        },
        {
            "entry_id": "EU.9902.22",
            "entity_type": "individual",
            "name": "Anna Testova",
            "programs": ["RUS"],
            "countries": ["BY", "RU"],
            "listing_date": date(2023, 2, 25),
            "remarks": None,
            "source_row_number": 2,
        },
        {
            # No euReferenceNumber: keyed by logicalId; the first alias is weak, so the
            # first strong one is the name.
            "entry_id": "logicalId:990033",
            "entity_type": "entity",
            "name": "Front of Shadows",
            "programs": ["TERR"],
            "countries": [],
            "listing_date": None,
            "remarks": None,
            "source_row_number": 3,
        },
    ]


def test_xml_aliases_flag_weak_names_and_original_script() -> None:
    aliases = parse_xml(XML).aliases

    assert dict(aliases.schema) == ALIAS_SCHEMA
    assert aliases.rows() == [
        ("EU.9901.11", "АО Фиктивные Приборы", "original_script", "strong"),
        ("EU.9901.11", "FIJSC", "aka", "weak"),
        ("EU.9902.22", "Anya Testova", "aka", "weak"),
        ("EU.9902.22", "Анна Тестова", "original_script", "strong"),
        ("logicalId:990033", "Shadow Front", "aka", "weak"),
        ("logicalId:990033", "Shadow Front Brigade", "aka", "weak"),  # by its remark
    ]


def test_xml_identifiers_with_russian_numbers_checked() -> None:
    identifiers = parse_xml(XML).identifiers

    assert dict(identifiers.schema) == IDENTIFIER_SCHEMA
    assert identifiers.rows() == [
        ("EU.9901.11", "RU_INN", INN_ENTITY, "RU", True),  # "... (Tax ID/INN)"
        ("EU.9901.11", "RU_OGRN", OGRN_ENTITY, "RU", True),  # 13-digit Russian regnumber
        ("EU.9901.11", "SWIFT_BIC", "FICTRUMM", "RU", None),
        ("EU.9901.11", "RU_OGRN", OGRN_IN_REMARK, None, True),  # from the entity remark
        ("EU.9902.22", "PASSPORT", "750000003", "RU", None),
        ("EU.9902.22", "RU_INN", INN_PERSON_BAD, "RU", False),  # kept, flagged
        ("logicalId:990033", "UN_REFERENCE", "QDe.999", None, None),
    ]


def test_xml_addresses_skip_unknown_places() -> None:
    addresses = parse_xml(XML).addresses

    assert dict(addresses.schema) == ADDRESS_SCHEMA
    assert addresses.rows() == [
        (
            "EU.9901.11",
            "Vymyshlennaya St. 12, Moscow, 101000, RUSSIAN FEDERATION",
            "Moscow",
            "RU",
        ),
        ("logicalId:990033", "Utopia City, UTOPIA", "Utopia City", "UTOPIA"),
    ]


def test_csv_gives_the_same_parsed_list_as_xml() -> None:
    assert_same(parse_csv(CSV), parse_xml(XML))


def test_csv_row_order_of_sub_records_does_not_matter_across_entities() -> None:
    # Rows of different entities interleaved: entities keep their first-appearance order.
    rows = [ROWS[0], ROWS[8], *ROWS[1:8], *ROWS[9:]]
    parsed = parse_csv(fsf_csv(rows))

    assert parsed.entries["entry_id"].to_list() == ["EU.9901.11", "EU.9902.22", "logicalId:990033"]
    assert_frame_equal(parsed.aliases, parse_xml(XML).aliases)


def test_csv_without_strong_column_has_no_quality_but_remark() -> None:
    header = [name for name in HEADER if name != "NameAlias_Strong"]
    parsed = parse_csv(fsf_csv(ROWS, header))

    assert by_entry(parsed.entries, "logicalId:990033", "name") == [("Shadow Front",)]
    assert by_entry(parsed.aliases, "logicalId:990033", "alias", "quality") == [
        ("Front of Shadows", None),
        ("Shadow Front Brigade", "weak"),
    ]
    assert set(by_entry(parsed.aliases, "EU.9901.11", "quality")) == {(None,)}


def test_csv_accepts_single_letter_subject_types_in_either_column() -> None:
    rows = [{**ROWS[8], "Entity_SubjectType": "P", "Entity_SubjectType_ClassificationCode": ""}]

    assert parse_csv(fsf_csv(rows)).entries["entity_type"].to_list() == ["individual"]


def test_dd_mm_yyyy_designation_date() -> None:
    rows = [{**ROWS[0], "Entity_DesignationDate": "08/04/2022"}]

    assert parse_csv(fsf_csv(rows)).entries["listing_date"].to_list() == [date(2022, 4, 8)]


def test_identical_duplicate_entities_collapse_to_one_entry() -> None:
    rows = [ROWS[0], {**ROWS[0], "Entity_LogicalId": "990099"}]

    assert parse_csv(fsf_csv(rows)).entries["entry_id"].to_list() == ["EU.9901.11"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE export [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<export><sanctionEntity logicalId="1"><nameAlias wholeName="&lol4;"/></sanctionEntity></export>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE export [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<export><sanctionEntity logicalId="1"><nameAlias wholeName="&secret;"/></sanctionEntity></export>
"""
DOCTYPE_ONLY = b'<?xml version="1.0"?><!DOCTYPE export><export/>'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty input"),
        (b"  \n", "empty input"),
        (BILLION_LAUGHS, "DTD or entity declaration is refused"),
        (EXTERNAL_ENTITY, "DTD or entity declaration is refused"),
        (DOCTYPE_ONLY, "DTD or entity declaration is refused"),
        (b"<export><sanctionEntity>", "malformed XML"),
        (b"<CONSOLIDATED_LIST/>", "not an FSF XML export"),
        (b'<export xmlns="http://eu.europa.ec/fpi/fsd/export"/>', "no <sanctionEntity>"),
        (
            XML.replace(b'code="person"', b'code="vessel"'),
            r"EU\.9902\.22: unknown subject type",
        ),
        (XML.replace(b'strong="false"', b'strong="maybe"', 1), "strong='maybe'"),
        (XML.replace(b'designationDate="2022-04-08"', b'designationDate="8 April"'), "not a date"),
        (
            XML.replace(b'euReferenceNumber="EU.9902.22"', b'euReferenceNumber="EU.9901.11"'),
            "entry id EU.9901.11 appears twice with different data",
        ),
        (
            XML.replace(
                b'<nameAlias wholeName="Shadow Front" strong="false" logicalId="770031"/>', b""
            )
            .replace(b'wholeName="Front of Shadows"', b'wholeName=""')
            .replace(b'wholeName="Shadow Front Brigade"', b""),
            "no nameAlias with a name",
        ),
    ],
)
def test_bad_xml_raises(data: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse_xml(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty input"),
        (b"Last Updated,05/06/2026\r\nName 6,Name 1,Group ID\r\n", "not an FSF CSV export"),
        (fsf_csv([]), "header but no records"),
        (CSV + b"990011;EU.9901.11\r\n", "has 2 fields"),
        (fsf_csv([{**ROWS[0], "Entity_LogicalId": ""}]), "empty Entity_LogicalId"),
        (
            fsf_csv([ROWS[0], {**ROWS[1], "Entity_DesignationDate": "2022-04-09"}]),
            "Entity_LogicalId 990011 has Entity_DesignationDate '2022-04-09'",
        ),
        (
            fsf_csv([ROWS[0], {**ROWS[8], "Entity_EU_ReferenceNumber": "EU.9901.11"}]),
            "appears twice with different data",
        ),
    ],
)
def test_bad_csv_raises(data: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse_csv(data)


def test_cp1252_csv_does_not_crash() -> None:
    rows = [{**ROWS[0], "NameAlias_WholeName": "Société Fictive"}]
    data = fsf_csv(rows).removeprefix(b"\xef\xbb\xbf").decode().encode("cp1252")

    assert parse_csv(data).entries["name"].to_list() == ["Société Fictive"]
