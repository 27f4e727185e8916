"""Completeness by format: whole files are accepted, files cut short are refused by name.

Each case goes through the registry (`PARSERS[format]`), the path every snapshot takes. A cut
that a format cannot reveal (a CSV without trailer, cut at a line boundary) is asserted as
accepted, so the documented limit in docs/sanctions_completeness.md stays true.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from conftest import REPO_ROOT, shared_file

from assets.sanctions import (
    eu_fsf,
    eu_journal,
    ofac_sdn,
    opensanctions_ftm,
    uk_consolidated,
    un_xml,
)
from assets.sanctions.model import ParsedList, SnapshotFormatError
from assets.sanctions.parsing import IncompleteSnapshotError
from assets.sanctions.registry import PARSERS

BUNDLED_SDN = REPO_ROOT / "reference" / "sanctions" / "ofac_sdn" / "sdn_2024-02-23.csv"
OFAC_FILES = [
    "add_2021-04-25.csv",
    "add_2026-06-02.csv.gz",
    "alt_2021-04-25.csv",
    "alt_2026-06-02.csv.gz",
    "sdn_2021-04-25.csv",
    "sdn_2022-02-17.csv.gz",
    "sdn_2022-03-01.csv.gz",
    "sdn_2023-05-16.csv.gz",
    "sdn_2023-05-19.csv.gz",
    "sdn_2024-02-20.csv",
    "sdn_2024-02-23.csv",
    "sdn_2024-04-26.csv.gz",
    "sdn_2024-05-01.csv.gz",
    "sdn_2024-05-03.csv.gz",
]
UN_FILES = ["consolidated_2018-10-29.xml", "un_2022-09-15.xml"]
EU_JOURNAL_FILES = [
    "32014R0833_2026-07-17.csv",
    "32014R0269_2026-07-17.csv",
    "32026R1848.csv",
    "32026R1843.csv",
]
FTM_SAMPLE = "opensanctions/entities.ftm_eu_fsf_sample_2024-06.json"


def read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def parse_with(fmt: str, parts: dict[str, bytes]) -> ParsedList:
    """The registry's parser for `fmt`, as the snapshot assets call it."""
    _, parse = PARSERS[fmt]
    return parse(parts)


def drop_last_lines(data: bytes, share: float, separator: bytes = b"\n") -> bytes:
    """The file cut cleanly at a line boundary, the last `share` of its lines gone."""
    lines = data.split(separator)
    keep = int(len(lines) * (1 - share))
    assert 0 < keep < len(lines)
    return separator.join(lines[:keep]) + separator


def cut_mid_line(data: bytes) -> bytes:
    """The file cut in the middle of its last quarter's first line (mid-line, mid-field)."""
    start = data.index(b"\n", len(data) * 3 // 4) + 1
    end = data.index(b"\n", start)
    return data[: (start + end) // 2]


def refused(fmt: str, parts: dict[str, bytes], part: str, pattern: str) -> str:
    """Assert the registry's parser refuses `parts` as incomplete, naming `part`."""
    with pytest.raises(IncompleteSnapshotError) as caught:
        parse_with(fmt, parts)
    message = str(caught.value)
    assert message.startswith(f"part {part}: "), message
    assert re.search(pattern, message), message
    assert len(message) < 300, message
    return message


# --- OFAC legacy CSV --------------------------------------------------------------------------


@pytest.mark.parametrize("name", OFAC_FILES)
def test_every_real_ofac_file_ends_with_one_eof_byte_and_passes(name: str) -> None:
    data = read(shared_file(f"ofac-sdn/{name}"))
    assert data.endswith(b"\r\n\x1a")
    assert data.count(b"\x1a") == 1
    ofac_sdn.check_complete({"sdn": data} | {name[:3]: data})


def test_bundled_sdn_is_accepted_whole() -> None:
    data = BUNDLED_SDN.read_bytes()
    assert parse_with("ofac_legacy_csv", {"sdn": data}).entries.height == 14484


@pytest.fixture(scope="module")
def sdn() -> bytes:
    return BUNDLED_SDN.read_bytes()


def test_ofac_cut_at_a_line_boundary_is_refused(sdn: bytes) -> None:
    cut = drop_last_lines(sdn, 0.08, b"\r\n")
    message = refused(
        "ofac_legacy_csv", {"sdn": cut}, "sdn", r"ends after a line break without .*0x1A"
    )
    last_record = cut.split(b"\r\n")[-2].decode("cp1252")
    assert last_record[:20] not in message  # the file's content stays out of the message


def test_ofac_cut_mid_line_is_refused(sdn: bytes) -> None:
    refused("ofac_legacy_csv", {"sdn": cut_mid_line(sdn)}, "sdn", r"ends mid-line without")


def test_ofac_whole_file_without_its_trailer_is_refused(sdn: bytes) -> None:
    refused("ofac_legacy_csv", {"sdn": sdn[:-1]}, "sdn", r"0x1A")


def test_ofac_glued_files_are_refused(sdn: bytes) -> None:
    refused("ofac_legacy_csv", {"sdn": sdn + sdn}, "sdn", r"appears 2 times")


@pytest.mark.parametrize("part", ["alt", "add"])
def test_ofac_side_file_cut_short_is_refused_by_name(part: str) -> None:
    whole = read(shared_file(f"ofac-sdn/{part}_2021-04-25.csv"))
    sdn_2021 = read(shared_file("ofac-sdn/sdn_2021-04-25.csv"))
    cut = drop_last_lines(whole, 0.08, b"\r\n")
    refused("ofac_legacy_csv", {"sdn": sdn_2021, part: cut}, part, r"0x1A")


def test_ofac_older_call_runs_the_same_check(sdn: bytes) -> None:
    with pytest.raises(IncompleteSnapshotError, match="part sdn"):
        ofac_sdn.parse(sdn[:-1])


# --- UN XML -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def un() -> bytes:
    return shared_file("un/un_2022-09-15.xml").read_bytes()


@pytest.mark.parametrize("name", UN_FILES)
def test_real_un_files_pass(name: str) -> None:
    un_xml.check_complete({"consolidated": shared_file(f"un/{name}").read_bytes()})


def test_un_cut_at_a_line_boundary_is_refused(un: bytes) -> None:
    refused(
        "un_xml",
        {"consolidated": drop_last_lines(un, 0.08)},
        "consolidated",
        r"does not end with the closing </CONSOLIDATED_LIST>",
    )


def test_un_cut_mid_line_is_refused(un: bytes) -> None:
    refused("un_xml", {"consolidated": cut_mid_line(un)}, "consolidated", r"closing")


def test_un_without_generation_date_is_refused(un: bytes) -> None:
    data = re.sub(rb' dateGenerated="[^"]*"', b"", un, count=1)
    refused("un_xml", {"consolidated": data}, "consolidated", r"no dateGenerated attribute")


def test_un_with_a_generation_date_that_is_no_date_is_refused(un: bytes) -> None:
    data = re.sub(rb'dateGenerated="[^"]*"', b'dateGenerated="soon"', un, count=1)
    refused("un_xml", {"consolidated": data}, "consolidated", r"dateGenerated 'soon' is not")


def test_un_closed_again_after_losing_its_entities_is_refused(un: bytes) -> None:
    start, end = un.index(b"<ENTITIES>"), un.index(b"</ENTITIES>") + len(b"</ENTITIES>")
    data = un[:start] + un[end:]
    refused("un_xml", {"consolidated": data}, "consolidated", r"lacks <ENTITIES>")


# --- EU FSF (no real file at hand: minimal files in the published layouts) -------------------

FSF_XML = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2026-08-05T16:47:04.449+02:00"
        globalFileId="990001">
  <sanctionEntity euReferenceNumber="EU.9901.11" logicalId="990011">
    <subjectType code="enterprise" classificationCode="E"/>
    <nameAlias wholeName="Fictitious Instruments JSC" strong="true" logicalId="770001"/>
  </sanctionEntity>
  <sanctionEntity euReferenceNumber="EU.9902.22" logicalId="990022">
    <subjectType code="person" classificationCode="P"/>
    <nameAlias wholeName="Anna Testova" strong="true" logicalId="770011"/>
  </sanctionEntity>
</export>
"""
FSF_HEADER = "fileGenerationDate;Entity_LogicalId;Entity_EU_ReferenceNumber;NameAlias_WholeName"
FSF_ROWS = [
    "05/08/2026;990011;EU.9901.11;Fictitious Instruments JSC",
    "05/08/2026;990022;EU.9902.22;Anna Testova",
    "05/08/2026;990033;EU.9903.33;Shadow Front",
]


def fsf_csv(header: str = FSF_HEADER, rows: list[str] = FSF_ROWS) -> bytes:
    return b"\xef\xbb\xbf" + "\r\n".join([header, *rows, ""]).encode()


def test_fsf_whole_files_are_accepted() -> None:
    assert parse_with("eu_fsf", {"eu_fsf": FSF_XML}).entries.height == 2
    assert parse_with("eu_fsf", {"eu_fsf": fsf_csv()}).entries.height == 3


def test_fsf_xml_cut_at_a_line_boundary_is_refused() -> None:
    refused(
        "eu_fsf",
        {"eu_fsf": drop_last_lines(FSF_XML, 0.2)},
        "eu_fsf",
        r"does not end with the closing </export>",
    )


def test_fsf_xml_without_generation_date_is_refused() -> None:
    data = re.sub(rb' generationDate="[^"]*"', b"", FSF_XML)
    refused("eu_fsf", {"eu_fsf": data}, "eu_fsf", r"no generationDate attribute")


def test_fsf_csv_without_its_generation_date_column_is_refused() -> None:
    rows = [row.split(";", 1)[1] for row in FSF_ROWS]
    data = fsf_csv(FSF_HEADER.split(";", 1)[1], rows)
    refused("eu_fsf", {"eu_fsf": data}, "eu_fsf", r"no fileGenerationDate column")


def test_fsf_csv_rows_of_two_generations_are_refused() -> None:
    rows = [FSF_ROWS[0], FSF_ROWS[1].replace("05/08/2026", "06/08/2026"), FSF_ROWS[2]]
    refused("eu_fsf", {"eu_fsf": fsf_csv(rows=rows)}, "eu_fsf", r"one date on every row")


def test_fsf_csv_cut_at_a_line_boundary_cannot_be_told() -> None:
    # Documented limit: the CSV has no trailer or count; the delisting bound must catch it.
    cut = parse_with("eu_fsf", {"eu_fsf": fsf_csv(rows=FSF_ROWS[:2])})
    assert cut.entries.height == 2


# --- UK ConList CSV ---------------------------------------------------------------------------

UK_HEADER = (
    "Name 6,Name 1,Name 2,Name 3,Name 4,Name 5,Group Type,Alias Type,Regime,Listed On,Group ID"
)
UK_ROWS = [
    "FICTIONAL TRADING LLC,,,,,,Entity,Primary name,Russia,24/02/2022,90001",
    "TESTOVA,ANNA,,,,,Individual,Primary name,Russia,25/02/2023,90002",
    "SEA OF FICTION,,,,,,Ship,Primary name,Russia,09/05/2023,90003",
]


def conlist(title: str = "Last Updated,05/06/2026", rows: list[str] = UK_ROWS) -> bytes:
    return "\r\n".join([*([title] if title else []), UK_HEADER, *rows, ""]).encode()


def test_uk_whole_file_is_accepted() -> None:
    assert parse_with("uk_conlist_csv", {"conlist": conlist()}).entries.height == 3


@pytest.mark.parametrize(
    ("title", "pattern"),
    [
        ("", r"first line is not the 'Last Updated,dd/mm/yyyy' title row"),
        ("Last Updated,", r"title row has no dd/mm/yyyy date"),
        ("Last Updated,31/02/2026", r"title row has no dd/mm/yyyy date \(has '31/02/2026'\)"),
    ],
)
def test_uk_without_its_title_row_date_is_refused(title: str, pattern: str) -> None:
    refused("uk_conlist_csv", {"conlist": conlist(title)}, "conlist", pattern)


def test_uk_cut_at_a_line_boundary_cannot_be_told() -> None:
    # Documented limit: no trailer or count in ConList.csv.
    cut = parse_with("uk_conlist_csv", {"conlist": conlist(rows=UK_ROWS[:2])})
    assert cut.entries.height == 2


# --- EU Official Journal transcriptions -------------------------------------------------------


@pytest.mark.parametrize("name", EU_JOURNAL_FILES)
def test_real_eu_journal_files_pass(name: str) -> None:
    eu_journal.check_complete({"consolidated": shared_file(f"eu/{name}").read_bytes()})


@pytest.fixture(scope="module")
def annexes() -> bytes:
    return shared_file("eu/32014R0833_2026-07-17.csv").read_bytes()


def test_eu_journal_cut_mid_line_is_refused(annexes: bytes) -> None:
    refused(
        "eu_journal_csv",
        {"consolidated": cut_mid_line(annexes)},
        "consolidated",
        r"last record has no line break: the file is cut mid-line",
    )


def test_eu_journal_cut_at_a_line_boundary_cannot_be_told(annexes: bytes) -> None:
    whole = parse_with("eu_journal_csv", {"consolidated": annexes})
    cut = parse_with("eu_journal_csv", {"consolidated": drop_last_lines(annexes, 0.08, b"\r\n")})
    assert 0 < cut.entries.height < whole.entries.height  # the delisting bound's job


# --- OpenSanctions FtM JSON lines -------------------------------------------------------------


def test_real_ftm_sample_passes_without_a_final_line_break() -> None:
    data = shared_file(FTM_SAMPLE).read_bytes()
    assert not data.endswith(b"\n")
    assert parse_with("opensanctions_ftm", {"entities": data}).entries.height > 0


def test_ftm_cut_mid_line_is_refused() -> None:
    data = shared_file(FTM_SAMPLE).read_bytes()
    refused(
        "opensanctions_ftm",
        {"entities": data[: len(data) - 40]},
        "entities",
        r"last line \(\d+\) is not a complete JSON object",
    )


def test_ftm_cut_at_a_line_boundary_cannot_be_told() -> None:
    data = shared_file(FTM_SAMPLE).read_bytes()
    cut = data[: data.rindex(b"\n") + 1]
    assert parse_with("opensanctions_ftm", {"entities": cut}).entries.height > 0


# --- every format -----------------------------------------------------------------------------

# format -> (module, a part name, whole bytes builder)
WHOLE: dict[str, tuple[ModuleType, str, Callable[[], bytes]]] = {
    "ofac_legacy_csv": (ofac_sdn, "sdn", BUNDLED_SDN.read_bytes),
    "un_xml": (un_xml, "consolidated", lambda: shared_file("un/un_2022-09-15.xml").read_bytes()),
    "uk_conlist_csv": (uk_consolidated, "conlist", conlist),
    "eu_fsf": (eu_fsf, "eu_fsf", lambda: FSF_XML),
    "eu_journal_csv": (
        eu_journal,
        "consolidated",
        lambda: shared_file("eu/32026R1848.csv").read_bytes(),
    ),
    "opensanctions_ftm": (
        opensanctions_ftm,
        "entities",
        lambda: shared_file(FTM_SAMPLE).read_bytes(),
    ),
}


def test_every_registered_format_has_a_completeness_case() -> None:
    assert set(WHOLE) == set(PARSERS)
    for fmt, (module, part, _) in WHOLE.items():
        assert PARSERS[fmt][0] == module.__name__
        assert part in module.PARTS
        assert callable(module.check_complete)


@pytest.mark.parametrize("fmt", sorted(WHOLE))
def test_every_format_refuses_an_empty_or_missing_main_part(fmt: str) -> None:
    module, part, _ = WHOLE[fmt]
    with pytest.raises(SnapshotFormatError, match=f"part {part}: empty input"):
        parse_with(fmt, {part: b" \r\n"})
    with pytest.raises(SnapshotFormatError, match=f"no `{module.MAIN_PART}` file"):
        parse_with(fmt, {"other": b"x"})


@pytest.mark.parametrize("fmt", sorted(WHOLE))
def test_every_format_refuses_a_cut_in_its_last_line(fmt: str) -> None:
    _, part, whole = WHOLE[fmt]
    data = whole()
    cut = data.rstrip(b"\r\n\x1a")[:-3]
    with pytest.raises(IncompleteSnapshotError, match=f"^part {part}: "):
        parse_with(fmt, {part: cut})
