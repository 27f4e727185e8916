"""Real published statistics in the demo: bundled Eurostat extracts, conserved, indexed by month."""

import csv
import io
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import REPO_ROOT

from assets.common.landing import LandingArea
from assets.common.warehouse import Warehouse
from assets.trade_statistics.published import (
    LANDING,
    published_trade_statistics,
    recount,
    totals_match_files,
)

BUNDLED = REPO_ROOT / "reference" / "trade_statistics" / "eurostat_comext"


def _eu27_by_month(path: Path) -> dict[str, float]:
    """EU27 exports by month as the file says, read with the csv module alone."""
    totals: dict[str, float] = defaultdict(float)
    for record in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
        if "European Union - 27 countries" in record["REPORTER"]:
            label = record["PERIOD"].split("-", 1)[-1].strip()  # "Aug. 2024"
            month = datetime.strptime(label[:3] + label[-5:], "%b %Y").strftime("%Y-%m")
            totals[month] += float(record["VALUE_IN_EUR"])
    return dict(totals)


@pytest.mark.parametrize("partner", ["RU", "KG", "KZ", "AM"])
def test_the_demo_loads_the_bundled_extracts_exactly(
    warehouse: duckdb.DuckDBPyConnection, partner: str
) -> None:
    (path,) = BUNDLED.glob(f"*_EU_to_{partner}_*.csv")
    expected = _eu27_by_month(path)
    assert len(expected) == 68  # 2019-01 .. 2024-08
    rows = warehouse.execute(
        "select strftime(month, '%Y-%m'), value, currency from marts.partner_trade_monthly "
        "where source = 'eurostat_comext' and reporter = 'EU27' and partner = $partner "
        "and flow = 'X' and product_code = 'TOTAL'",
        {"partner": partner},
    ).fetchall()
    assert {month: value for month, value, _ in rows} == expected
    assert {currency for _, _, currency in rows} == {"EUR"}
    landed = warehouse.execute(
        "select distinct source_sha256 from staging.published_trade_statistics "
        "where source_file like $name",
        {"name": f"%{path.name}"},
    ).fetchall()
    import hashlib

    assert landed == [(hashlib.sha256(path.read_bytes()).hexdigest(),)]


def test_the_index_shows_the_fall_and_the_rise(warehouse: duckdb.DuckDBPyConnection) -> None:
    index = dict(
        warehouse.execute(
            "select partner, index_2019_2021 from marts.partner_trade_monthly "
            "where source = 'eurostat_comext' and reporter = 'EU27' and flow = 'X' "
            "and product_code = 'TOTAL' and month = date '2024-08-01'"
        ).fetchall()
    )
    baseline = warehouse.execute(
        "select avg(value) from marts.partner_trade_monthly where source = 'eurostat_comext' "
        "and reporter = 'EU27' and partner = 'RU' and month between '2019-01-01' and '2021-12-01'"
    ).fetchall()[0][0]
    ru_aug_2024 = _eu27_by_month(next(BUNDLED.glob("*_EU_to_RU_*.csv")))["2024-08"]
    assert index["RU"] == round(100 * ru_aug_2024 / baseline, 1)
    assert index["RU"] < 50 and index["KG"] > 500 and index["KZ"] > 150 and index["AM"] > 150


def test_the_published_files_are_report_inputs(warehouse: duckdb.DuckDBPyConnection) -> None:
    from assets.audit.manifest import inputs

    listed = {item["file"] for item in inputs(warehouse)}
    assert {f"{LANDING}/eurostat_comext/{path.name}" for path in BUNDLED.glob("*.csv")} <= listed


def test_recount_skips_repeated_headers_and_blank_records(tmp_path: Path) -> None:
    path = tmp_path / "concatenated.csv"
    header = "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"
    row = '"Greece","Armenia","Total","EXPORT","Total","{p}",{v}\n'
    path.write_text(
        header + row.format(p="Aug. 2024", v=10) + "\n" + header + row.format(p="Jul. 2024", v=5)
    )
    assert recount(str(path)) == (2, 15.0)


def test_recount_reads_a_latin_1_file_as_latin_1_and_a_missing_one_as_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "latin1.csv"
    header = "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"
    row = '"Curaçao","Armenia","Total","EXPORT","Total","Aug. 2024","1,250.5"\n'
    path.write_bytes((header + row + row).encode("latin-1"))
    assert recount(str(path)) == (2, 2501.0)
    assert recount(str(tmp_path / "gone.csv")) is None


def _stage(tmp_path: Path, source: Path) -> tuple[Warehouse, LandingArea]:
    folder = tmp_path / "landing" / LANDING / "eurostat_comext"
    folder.mkdir(parents=True)
    (folder / source.name).write_bytes(source.read_bytes())
    warehouse = Warehouse(
        build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w.duckdb")
    )
    landing = LandingArea(path=str(tmp_path / "landing"))
    result = dg.materialize(
        [published_trade_statistics], resources={"warehouse": warehouse, "landing": landing}
    )
    assert result.success
    return warehouse, landing


def test_the_check_passes_on_a_faithful_load_and_fails_on_a_lost_row(tmp_path: Path) -> None:
    (source,) = BUNDLED.glob("*_EU_to_AM_*.csv")
    warehouse, landing = _stage(tmp_path, source)
    faithful = totals_match_files(warehouse=warehouse, landing=landing)
    assert isinstance(faithful, dg.AssetCheckResult) and faithful.passed
    with duckdb.connect(warehouse.build_path) as con:
        con.execute("delete from staging.published_trade_statistics where source_row_number = 7")
    result = totals_match_files(warehouse=warehouse, landing=landing)
    assert isinstance(result, dg.AssetCheckResult)
    assert not result.passed
    assert "2048 records in the file, 2047 staged" in (result.description or "")
