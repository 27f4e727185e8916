"""A monthly run rebuilds a yearly aggregate for its months' years only, and gets it right."""

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import DemoBuild, copy_of_demo, land_moved_month

from assets.common import sql, table_sums
from orchestration import cli
from orchestration.settings import Settings

pytestmark = pytest.mark.e2e


def _rebuilt_years(
    settings: Settings, table: tuple[str, str] = ("marts", "importer_profile")
) -> str:
    """The `rebuilt_years` of a yearly aggregate's latest materialization."""
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(list(table)))
    assert event is not None and event.asset_materialization is not None
    return str(event.asset_materialization.metadata["rebuilt_years"].value)


def _differences(
    settings: Settings, table: tuple[str, str] = ("marts", "importer_profile")
) -> tuple[int, int, int]:
    """(rows, rows the statement gives that the table lacks, and the reverse) over every year."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        statement = sql.load(*table)
        target = sql.table_ref(*table)
        counts = con.execute(
            f"select (select count(*) from {target}), "  # noqa: S608
            f"(select count(*) from (({statement}) except all select * from {target})), "
            f"(select count(*) from (select * from {target} except all ({statement})))"
        ).fetchone()
    finally:
        con.close()
    assert counts is not None
    return int(counts[0]), int(counts[1]), int(counts[2])


def test_a_customs_month_rebuilds_its_year_only_and_every_year_stays_exact(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    settings = copy_of_demo(demo_build, tmp_path)
    rows_before, _, _ = _differences(settings)
    land_moved_month(settings.landing_dir, "2025-01")
    assert cli.build(settings, ("2025-01", "2025-01"), job_name="load_customs")
    assert _rebuilt_years(settings) == "2025"
    assert _rebuilt_years(settings, ("core", "importer_years")) == "2025"
    rows, missing, extra = _differences(settings)
    assert (missing, extra) == (0, 0)  # the other years' rows are what a full rebuild gives
    assert rows > rows_before  # 2025's importers were added
    assert _differences(settings, ("core", "importer_years"))[1:] == (0, 0)

    # A run that also rebuilds an unpartitioned input (tax data: any year may change) rebuilds
    # every year, even over one month.
    assert cli.build(settings, ("2025-01", "2025-01"))
    assert _rebuilt_years(settings) == _rebuilt_years(settings, ("core", "importer_years")) == "all"
    assert _differences(settings) == (rows, 0, 0)


def test_a_month_whose_input_was_rebuilt_whole_rebuilds_every_year(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """After an upgrade changed core.shipments' columns, its next run rebuilds it over every
    month: the yearly aggregate must follow over every year, not only the month's."""
    settings = copy_of_demo(demo_build, tmp_path)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("alter table core.shipments drop column quantity_unit")  # an older layout
        con.execute("update marts.importer_profile set importer_name = 'STALE'")
    land_moved_month(settings.landing_dir, "2025-02", source="2023-02")
    assert cli.build(settings, ("2025-02", "2025-02"), job_name="load_customs")
    assert _rebuilt_years(settings) == "all"
    _, missing, extra = _differences(settings)
    assert (missing, extra) == (0, 0)


def test_a_yearly_input_rebuilt_whole_rebuilds_every_year_downstream(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """core.importer_years in an older layout is rebuilt over every year by a monthly run; the
    profile that reads it must follow over every year, not only the month's."""
    settings = copy_of_demo(demo_build, tmp_path)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("alter table core.importer_years add column stale integer")
        con.execute("update marts.importer_profile set importer_name = 'STALE'")
    land_moved_month(settings.landing_dir, "2025-01")
    assert cli.build(settings, ("2025-01", "2025-01"), job_name="load_customs")
    assert _rebuilt_years(settings, ("core", "importer_years")) == "all"
    assert _rebuilt_years(settings) == "all"
    assert _differences(settings)[1:] == (0, 0)


def test_a_corrected_month_is_hashed_again_and_the_manifest_matches_every_row(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """Publication hashes only the months a run rewrote (assets/common/table_sums.py): after a
    corrected month with as many rows, every recorded checksum is still what a pass over every
    row of the published file gives."""
    settings = copy_of_demo(demo_build, tmp_path)

    def recorded() -> tuple[dict[str, str], dict[str, str], int]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            row = con.execute(
                "select table_checksums from audit.publications order by published_at desc limit 1"
            ).fetchone()
            full = {t: v["checksum"] for t, v in table_sums.full_checksums(con).items()}
            kept = con.execute("select count(*) from audit.checksum_parts").fetchone()
        assert row is not None and kept is not None
        return json.loads(row[0]), full, int(kept[0])

    before, _, _ = recorded()
    landed = settings.landing_dir / "customs" / "declarations_2023-05.csv"
    lines = landed.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[-4] = f"{float(fields[-4]) + 1000:.2f}"  # statistical_value_usd, as many rows
    lines[1] = ",".join(fields)
    landed.write_text("".join(lines), encoding="utf-8")
    assert cli.build(settings, ("2023-05", "2023-05"), job_name="load_customs")
    after, full, kept = recorded()
    assert after == full  # every table, the months kept and the month hashed again
    assert kept > 0  # the month sums are kept in the published file
    changed = {t for t in after if after[t] != before.get(t)}
    assert {"raw.customs_declarations", "core.shipments"} <= changed
