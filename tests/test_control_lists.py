"""Control lists as versioned reference data: the HS 2017 to HS 2022 concordance and its use."""

import csv
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb

from assets.common import sql
from assets.common.contracts import load_contract, validate
from assets.common.paths import REFERENCE_DIR
from assets.common.warehouse import Warehouse
from assets.control_lists import every_code_in_hs2022


def _read(relative: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / relative, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


CONCORDANCE = _read("hs/hs2017_hs2022_concordance.csv")
MEASURES = _read("control_lists/control_measures.csv")
HS2022 = {row["hscode"] for row in _read("hs/harmonized-system.csv") if row["level"] == "6"}


def test_bundled_reference_files_meet_their_contracts() -> None:
    import polars as pl

    for contract_id, relative in [
        ("hs_concordance", "hs/hs2017_hs2022_concordance.csv"),
        ("control_measures", "control_lists/control_measures.csv"),
    ]:
        frame = pl.read_csv(REFERENCE_DIR / relative, infer_schema=False)
        checked = validate(frame, load_contract(contract_id))
        assert checked.quarantined.height == 0, checked.quarantined.to_dicts()[:3]
        assert checked.valid.height == frame.height


def test_concordance_targets_are_hs2022_subheadings() -> None:
    assert {row["hs2022"] for row in CONCORDANCE} <= HS2022


def test_concordance_covers_every_code_the_lists_involve() -> None:
    listed = {row["hs6"] for row in MEASURES if row["hs_edition"] == "HS2022"}
    assert listed <= {row["hs2022"] for row in CONCORDANCE}
    listed_2017 = {row["hs6"] for row in MEASURES if row["hs_edition"] == "HS2017"}
    assert listed_2017 <= {row["hs2017"] for row in CONCORDANCE}


def test_relationship_says_how_many_hs2022_codes_each_hs2017_code_went_to() -> None:
    targets = Counter(row["hs2017"] for row in CONCORDANCE)
    for row in CONCORDANCE:
        expected = "1:1" if targets[row["hs2017"]] == 1 else "1:n"
        assert row["relationship"] == expected, row


def test_known_hs2022_changes_are_in_the_concordance() -> None:
    pairs = {(row["hs2017"], row["hs2022"]) for row in CONCORDANCE}
    # Renumbered: parts of aircraft (8803 -> 8807) and electrical parts (854890 -> 854800).
    assert ("880330", "880730") in pairs
    assert ("854890", "854800") in pairs
    # Split: photosensitive and other semiconductor devices, cameras.
    assert {h for s, h in pairs if s == "854140"} == {"854141", "854142", "854143", "854149"}
    assert {h for s, h in pairs if s == "854150"} == {"854151", "854159"}
    assert {h for s, h in pairs if s == "852580"} == {"852581", "852582", "852583", "852589"}


def test_taiwan_steps_keep_announcement_and_effective_dates_apart() -> None:
    steps = {(r["measure_id"], r["announced_on"], r["effective_from"]) for r in MEASURES}
    taiwan = sorted(s for s in steps if s[0].startswith("TW-"))
    assert [s[2] for s in taiwan] == ["2023-01-04", "2024-01-25", "2024-03-08"]
    assert ("TW-2024-01-25", "2023-12-26", "2024-01-25") in taiwan
    assert ("TW-2024-03-08", "2024-02-07", "2024-03-08") in taiwan
    coverage = {r["measure_id"]: r["coverage"] for r in MEASURES}
    assert coverage["TW-2023-01-04"] == "specification"
    assert coverage["TW-2024-03-08"] == "hs_code"


def _core_from(con: duckdb.DuckDBPyConnection, measures: list[tuple[str, str, str]]) -> None:
    """Build core.control_list_items over the bundled concordance and the given measures."""
    for layer in ("staging", "core"):
        con.execute(f"create schema if not exists {layer}")
    con.execute(
        "create table staging.hs_concordance as select * from read_csv($path, all_varchar = true)",
        {"path": str(REFERENCE_DIR / "hs/hs2017_hs2022_concordance.csv")},
    )
    con.execute(
        "create table staging.hs_nomenclature as select hscode, description, level::int as level "
        "from read_csv($path, all_varchar = true)",
        {"path": str(REFERENCE_DIR / "hs/harmonized-system.csv")},
    )
    con.execute(
        "create table staging.control_measures (measure_id varchar, jurisdiction varchar, "
        "governs_exports_from varchar, authority varchar, list_name varchar, reference varchar, "
        "announced_on date, effective_from date, hs6 varchar, hs_edition varchar, "
        "control_tag varchar, source varchar, coverage varchar)"
    )
    for measure_id, hs6, edition in measures:
        con.execute(
            "insert into staging.control_measures values ($m, 'XX', 'XX', 'test authority', "
            "'test list', 'test act', null, '2020-01-01', $hs6, $edition, $m, 'test', 'hs_code')",
            {"m": measure_id, "hs6": hs6, "edition": edition},
        )
    sql.create_table_from_file(con, "core", "control_list_items")


def test_codes_listed_in_hs2017_are_converted_before_any_join() -> None:
    con = duckdb.connect()
    _core_from(
        con,
        [
            ("OLD", "852580", "HS2017"),
            ("OLD", "852990", "HS2017"),
            ("OLD", "901380", "HS2017"),
            ("OLD", "880330", "HS2017"),
            ("NEW", "852589", "HS2022"),
        ],
    )
    rows = con.execute(
        "select measure_id, hs6, hs6_as_listed from core.control_list_items order by all"
    ).fetchall()
    old = {hs6: listed for measure, hs6, listed in rows if measure == "OLD"}
    # A split code covers every HS 2022 code its goods went to.
    assert {h for h in old if h.startswith("8525")} == {"852581", "852582", "852583", "852589"}
    # Two listed codes that both went (in part) to a display-module code give one row.
    assert old["852411"] == "852990, 901380"
    assert old["852990"] == "852990" and old["901380"] == "901380"
    assert old["880730"] == "880330"
    assert ("NEW", "852589", "852589") in rows
    assert len(rows) == len({(m, h) for m, h, _ in rows})


def test_an_hs2017_code_without_concordance_is_kept_and_fails_the_check(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        _core_from(con, [("OLD", "999999", "HS2017"), ("OLD", "880330", "HS2017")])
        assert con.execute(
            "select count(*) from core.control_list_items where hs6 is null"
        ).fetchall() == [(1,)]
    warehouse = Warehouse(build_path=str(path), published_path=str(tmp_path / "p.duckdb"))
    result = every_code_in_hs2022(dg.build_asset_check_context(), warehouse=warehouse)
    assert isinstance(result, dg.AssetCheckResult)
    assert not result.passed
    assert "OLD 999999 (HS2017)" in (result.description or "")


def test_a_specification_step_is_shown_but_raises_no_flag(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    tags = warehouse.execute(
        "select distinct control_tag from marts.dual_use_trade_monthly "
        "where control_coverage = 'specification'"
    ).fetchall()
    assert tags == [("TW-RU-2023-01",)]
    flagged = warehouse.execute(
        "select count(*) from marts.flagged_shipments where evidence like '%TW-2023-01-04%'"
    ).fetchall()
    assert flagged == [(0,)]
    # The same shipments are flagged under the Taiwan machine-tool step once it took effect.
    later = warehouse.execute(
        "select count(*) from marts.flagged_shipments where evidence like '%TW-2024-03-08%'"
    ).fetchall()
    assert later[0][0] > 0
