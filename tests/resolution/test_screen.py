"""End to end: the screening command line on a tiny fictional list in OFAC legacy CSV."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

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
