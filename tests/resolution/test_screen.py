"""End to end: the screening command line on a tiny fictional list in OFAC legacy CSV."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest

from assets.resolution import screen

SDN = (
    '9001,"LIMITED LIABILITY COMPANY KRASNOGORSK TOOLWORKS",-0- ,"RUSSIA-EO14024",-0- ,-0- ,'
    "-0- ,-0- ,-0- ,-0- ,-0- ,\"Tax ID No. 5047120398 (Russia); a.k.a. 'KTW'.\"\r\n"
    '9002,"ORLOV PRECISION INSTRUMENTS JSC",-0- ,"RUSSIA-EO14024",-0- ,-0- ,-0- ,-0- ,-0- ,'
    "-0- ,-0- ,-0- \r\n"
    '9003,"11420 CORP.",-0- ,"VENEZUELA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    "\x1a"
)
ALT = '9002,501,"aka","ORLOVSKIE PRIBORY",-0- \r\n\x1a'
NAMES = (
    "name,inn,country\n"
    'ООО "Красногорск Тулворкс",5047120398,\n'
    "KRASNOGORSK TOOLWORKS LLC,6658312401,RU\n"
    "Orlovskie Pribory AO,,Russia\n"
    "BELLETECH CORP,,\n"
    "KTW,,\n"
)


def write_fixture(tmp_path: Path) -> tuple[Path, Path, Path]:
    sdn, alt, names = tmp_path / "sdn.csv", tmp_path / "alt.csv", tmp_path / "names.csv"
    sdn.write_bytes(SDN.encode("cp1252"))
    alt.write_bytes(ALT.encode("cp1252"))
    names.write_text(NAMES, encoding="utf-8")
    return sdn, alt, names


def test_screen_cli_writes_best_candidates_per_row(tmp_path: Path) -> None:
    sdn, alt, names = write_fixture(tmp_path)
    out = tmp_path / "out.csv"
    assert (
        screen.main(["--names", str(names), "--list", str(sdn), "--alt", str(alt),
                     "--out", str(out), "--top", "2"])
        == 0
    )  # fmt: skip
    result = pl.read_csv(out, infer_schema=False)
    assert result.columns == list(screen.OUTPUT_COLUMNS)
    best = result.filter(pl.col("rank").is_null() | (pl.col("rank") == "1"))
    by_row = {row["row"]: row for row in best.iter_rows(named=True)}
    assert set(by_row) == {"1", "2", "3", "4", "5"}
    # Cyrillic name with the listed INN: identifier match on the OFAC ent_num.
    assert (by_row["1"]["entry_id"], by_row["1"]["decision"]) == ("9001", "match")
    assert by_row["1"]["explanation"].startswith("Identifier match")
    # Same name, different valid INN: never a match.
    decoy = result.filter((pl.col("row") == "2") & (pl.col("entry_id") == "9001"))
    assert decoy["decision"].to_list() in ([], ["no_match"])
    # A strong alias from alt.csv, in another romanization, with a legal form.
    assert (by_row["3"]["entry_id"], by_row["3"]["matched_name_kind"]) == ("9002", "alias")
    assert by_row["3"]["decision"] == "match"
    # Generic "X CORP" against "11420 CORP.": nothing.
    assert by_row["4"]["decision"] == "no_match"
    # A weak alias (from remarks) alone is never an alert.
    assert by_row["5"]["decision"] == "no_match"


def test_screen_cli_json_output(tmp_path: Path) -> None:
    sdn, _, names = write_fixture(tmp_path)
    out = tmp_path / "out.json"
    screen.main(["--names", str(names), "--list", str(sdn), "--out", str(out), "--top", "1"])
    records = json.loads(out.read_text(encoding="utf-8"))
    assert len(records) == 5
    assert records[0]["inn"] == "5047120398"
    assert records[0]["candidates"][0]["entry_id"] == "9001"
    assert records[3]["candidates"] == []


def test_screen_cli_reads_matcher_settings_from_yaml(tmp_path: Path) -> None:
    sdn, _, names = write_fixture(tmp_path)
    config = tmp_path / "matcher.yaml"
    config.write_text("matcher:\n  min_report_score: 0.99\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    screen.main(["--names", str(names), "--list", str(sdn), "--config", str(config),
                 "--out", str(out)])  # fmt: skip
    result = pl.read_csv(out, infer_schema=False)
    # Only the identifier match survives a 0.99 reporting floor.
    assert result.filter(pl.col("entry_id").is_not_null())["row"].to_list() == ["1"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Exit code and stderr of one command-line run."""
    code = screen.main(list(argv))
    return code, capsys.readouterr().err


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("screen: error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"\n\n", "empty file"),
        (b"ACME LLC\nOrlov Pribory\n", "no `name` column"),
        (b"company,inn\nACME,1\n", "no `name` column"),
        (b'name,inn\n"ACME,1\n', "not a readable CSV"),
        (b"\x1f\x8b\x08\x00garbage", "damaged gzip"),
    ],
)
def test_unusable_names_file_is_one_line_naming_file_and_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    sdn, _, _ = write_fixture(tmp_path)
    names = tmp_path / "bad names.csv"
    names.write_bytes(content)
    code, err = _run(capsys, "--names", str(names), "--list", str(sdn))
    line = _one_line_error(err)
    assert code == 2
    assert str(names) in line and expected in line
    if expected != "damaged gzip":
        assert "header row that has a `name` column" in line


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("ofac_legacy_csv", NAMES.encode()),
        ("ofac_legacy_csv", b""),
        ("ofac_legacy_csv", bytes(range(256)) * 4),
        ("ofac_legacy_csv", b"\x1f\x8b\x08\x00garbage"),
        ("ofac_legacy_csv", b"\x1a"),
        ("un_xml", NAMES.encode()),
        ("un_xml", b""),
        ("un_xml", b"<?xml version='1.0'?><CONSOLIDATED_LIST>"),
    ],
)
def test_list_file_not_of_the_format_is_one_line_naming_file_and_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, content: bytes
) -> None:
    _, _, names = write_fixture(tmp_path)
    bad = tmp_path / "not a list.csv"
    bad.write_bytes(content)
    code, err = _run(capsys, "--names", str(names), "--list", str(bad), "--format", fmt)
    line = _one_line_error(err)
    assert code == 2
    assert str(bad) in line
    assert "gzip" in line or screen.FORMAT_NAMES[fmt] in line


def test_missing_files_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sdn, _, names = write_fixture(tmp_path)
    missing = tmp_path / "nowhere.csv"
    base = ("--names", str(names), "--list", str(sdn))
    for argv in (
        ("--names", str(missing), "--list", str(sdn)),
        ("--names", str(names), "--list", str(missing)),
        (*base, "--config", str(missing)),
        (*base, "--out", str(missing / "o.csv")),
    ):
        code, err = _run(capsys, *argv)
        line = _one_line_error(err)
        assert code == 2 and str(missing) in line


def test_names_not_in_utf8_are_refused_with_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdn, _, _ = write_fixture(tmp_path)
    names = tmp_path / "names.csv"
    names.write_bytes(
        'name,inn\nKTW,\n"ORLOV, multi\nline",\nООО "Красногорск Тулворкс",5047120398\n'.encode(
            "windows-1251"
        )
    )
    out = tmp_path / "out.csv"
    code, err = _run(capsys, "--names", str(names), "--list", str(sdn), "--out", str(out))
    line = _one_line_error(err)
    assert code == 2 and not out.exists()
    assert f"{names}: row 3 is not valid utf-8" in line and "--encoding" in line


def test_names_in_an_explicit_encoding_are_decoded_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdn, _, _ = write_fixture(tmp_path)
    names = tmp_path / "names.csv"
    names.write_bytes(NAMES.encode("windows-1251"))
    out = tmp_path / "out.json"
    argv = ["--names", str(names), "--list", str(sdn), "--out", str(out), "--top", "1"]
    code, _ = _run(capsys, *argv, "--encoding", "windows-1251")
    assert code == 0
    records = json.loads(out.read_text(encoding="utf-8"))
    assert records[0]["name"] == NAMES.splitlines()[1].rsplit(",", 2)[0]
    assert records[0]["candidates"][0]["entry_id"] == "9001"
    code, err = _run(capsys, *argv, "--encoding", "klingon")
    assert code == 2 and "klingon" in _one_line_error(err)


def test_a_byte_order_mark_and_a_header_only_file_are_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdn, _, _ = write_fixture(tmp_path)
    names, out = tmp_path / "names.csv", tmp_path / "out.csv"
    names.write_bytes(b"\xef\xbb\xbfName,inn\n")
    code, err = _run(capsys, "--names", str(names), "--list", str(sdn), "--out", str(out))
    assert code == 0, err
    assert "screened 0 names" in err
    assert pl.read_csv(out).height == 0


def test_csv_output_neutralizes_formulas_and_json_keeps_names_as_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdn, _, _ = write_fixture(tmp_path)
    names = tmp_path / "names.csv"
    hostile = ['=HYPERLINK("http://x","KTW")', "+KTW", "-2+3+cmd|' /C calc'!A0", "@KTW"]
    pl.DataFrame({"name": hostile}).write_csv(names)
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    for out in (out_csv, out_json):
        assert _run(capsys, "--names", str(names), "--list", str(sdn), "--out", str(out))[0] == 0
    written = pl.read_csv(out_csv, infer_schema=False)
    assert written.filter(pl.col("rank").is_null() | (pl.col("rank") == "1"))["name"].to_list() == [
        "'" + name for name in hostile
    ]
    assert all(not v.startswith(("=", "+", "-", "@")) for v in written["name"])
    assert written["score"].cast(pl.Float64).min() is not None  # scores stay numbers
    assert [r["name"] for r in json.loads(out_json.read_text(encoding="utf-8"))] == hostile
    # stdout CSV gets the same treatment
    assert screen.main(["--names", str(names), "--list", str(sdn)]) == 0
    stdout = capsys.readouterr().out
    assert pl.read_csv(io.StringIO(stdout), infer_schema=False)["name"].str.starts_with("'").all()
