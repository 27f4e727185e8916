"""A run keeps the build database open: each step a cursor of its own, the file whole at the end."""

import tempfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.common.warehouse import Warehouse


@dg.asset(key=["core", "first"])
def first(warehouse: Warehouse) -> None:
    """Writes a table and a temporary table."""
    with warehouse.connect() as con:
        con.execute("create table core.first as select 1 as n")
        con.execute("create temporary table scratch as select 1 as n")


@dg.asset(key=["core", "broken"])
def broken(warehouse: Warehouse) -> None:
    """Fails inside an open transaction."""
    with warehouse.connect() as con:
        con.execute("begin")
        con.execute("create table core.half as select 1 as n")
        raise RuntimeError("the step fails mid-transaction")


@dg.asset(key=["core", "second"], deps=[first])
def second(warehouse: Warehouse) -> dg.MaterializeResult:
    """Reads what the other steps left."""
    with warehouse.connect() as con:
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where table_name <> 'step_log'"
            ).fetchall()
        }
        order = con.execute("select current_setting('preserve_insertion_order')").fetchone()
    return dg.MaterializeResult(
        metadata={
            "kept_open": warehouse._database is not None,  # after the step's connection
            "tables": sorted(tables),
            "preserve_insertion_order": str(order[0] if order else None),
        }
    )


@pytest.mark.parametrize("keep_open_max_bytes", [512 * 1024 * 1024, 0])
def test_steps_share_the_open_database_and_the_file_is_whole_after_the_run(
    tmp_path: Path, keep_open_max_bytes: int
) -> None:
    warehouse = Warehouse(
        build_path=str(tmp_path / "w.build.duckdb"),
        published_path=str(tmp_path / "w.duckdb"),
        keep_open_max_bytes=keep_open_max_bytes,
    )
    result = dg.materialize(
        [first, broken, second], resources={"warehouse": warehouse}, raise_on_error=False
    )
    assert not result.success  # the broken step
    [materialization] = result.asset_materializations_for_node("core__second")
    metadata = materialization.metadata
    # the first step's table is seen; its temporary table went with its cursor; the failed
    # step's transaction was rolled back; the database's settings are as configured
    assert metadata["tables"].value == ["first"]
    assert metadata["preserve_insertion_order"].value == "False"
    # kept open between steps unless a step leaves more than the bound in DuckDB's buffers
    assert metadata["kept_open"].value is (keep_open_max_bytes > 0)
    # closed and checkpointed when the run ended: no WAL left, and another process may open it
    assert not Path(warehouse.build_path + ".wal").exists()
    con = duckdb.connect(warehouse.build_path, read_only=True)
    try:
        assert con.execute("select n from core.first").fetchall() == [(1,)]
    finally:
        con.close()


def test_a_table_whose_upstream_is_missing_says_to_build_everything(tmp_path: Path) -> None:
    """After an upgrade that adds a table, a partial run reading it fails with what to do."""
    from assets.common.sql_assets import MissingUpstream, sql_table_asset

    warehouse = Warehouse(
        build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w.duckdb")
    )
    asset = sql_table_asset("core", "inn_listing_periods", group="g", description="d")[0]
    result = dg.materialize([asset], resources={"warehouse": warehouse}, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    assert error is not None
    text = error.message + "".join(c.message for c in [error.cause] if c is not None)
    assert "core.sanctioned_identifiers" in text and "core.sanctions_list_history" in text
    assert "chokepoint build" in text
    assert MissingUpstream.__name__ in text


def test_a_build_file_on_another_file_system_is_refused_before_any_work(tmp_path: Path) -> None:
    """Publication renames the build file over the published one: across file systems it could
    not, so the run is refused at its start with a message that says why."""
    from assets.common.warehouse import SplitWarehouse

    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on a file system of its own")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        split = Warehouse(
            build_path=str(Path(other) / "w.build.duckdb"),
            published_path=str(tmp_path / "w.duckdb"),
        )
        with pytest.raises(SplitWarehouse, match="different file systems"):
            split.require_one_file_system()
    together = Warehouse(
        build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w.duckdb")
    )
    together.require_one_file_system()  # one folder: nothing to say


def test_the_closed_file_is_read_within_the_memory_limit(tmp_path: Path) -> None:
    """Publication's whole-file reads (checksums, the check) keep to the run's memory limit:
    DuckDB's default would cache up to 80% of the machine's memory (6.7 GB at 50M rows)."""
    warehouse = Warehouse(
        build_path=str(tmp_path / "w.build.duckdb"),
        published_path=str(tmp_path / "w.duckdb"),
        memory_limit="300MB",
    )
    limit = warehouse.read_closed(
        lambda con: con.execute("select current_setting('memory_limit')").fetchone()
    )
    default = duckdb.connect().execute("select current_setting('memory_limit')").fetchone()
    assert limit == ("286.1 MiB",)
    assert default != limit
