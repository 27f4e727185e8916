"""Readers are never blocked by a build and never see a half-built warehouse."""

import json
import subprocess
import sys
import textwrap
import time
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import DemoBuild, copy_of_demo, demo_months, land_moved_month, settings_for

from assets.audit import manifest
from assets.common import table_sums
from assets.common.warehouse import Warehouse
from orchestration import cli

READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    published, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    reads, failures = 0, []
    while not stop.exists():
        try:
            con = duckdb.connect(str(published), read_only=True)
            try:
                # What the publication recorded must be exactly what the file holds.
                recorded = json.loads(con.execute(
                    "select table_rows from audit.publications "
                    "order by published_at desc limit 1").fetchall()[0][0])
                for table in ("marts.dual_use_trade_monthly", "core.shipments"):
                    actual = con.execute(f"select count(*) from {table}").fetchall()[0][0]
                    if actual != recorded[table] or actual == 0:
                        failures.append(f"{table}: {actual} rows, publication says "
                                        f"{recorded[table]}")
            finally:
                con.close()
            reads += 1
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}")
        time.sleep(0.05)
    out.write_text(json.dumps({"reads": reads, "failures": failures}))
    """
)


@pytest.mark.e2e
def test_a_reader_in_a_loop_is_never_refused_during_a_full_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))  # restored afterwards
    cli.prepare_dagster_home(settings)
    cli.seed_landing(settings)
    assert cli.build(settings)  # something is published before the reader starts
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.warehouse_path), str(stop), str(out)]
    )
    try:
        time.sleep(1.0)
        started = time.monotonic()
        assert cli.build(settings)  # a full rebuild while the reader keeps reading
        build_seconds = time.monotonic() - started
        time.sleep(1.0)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text())
    assert result["failures"] == []
    assert result["reads"] > build_seconds  # it kept reading throughout, many times a second


@pytest.mark.e2e
def test_a_failed_build_leaves_the_published_warehouse_untouched(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets.common.raw import sha256_file

    settings = copy_of_demo(demo_build, tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    published = sha256_file(settings.warehouse_path)
    # A re-delivered month that lost its rows (header only): held by a blocking check.
    emptied = settings.landing_dir / "customs" / "declarations_2024-06.csv"
    emptied.write_text(emptied.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert not cli.build(settings)
    assert sha256_file(settings.warehouse_path) == published


@pytest.mark.e2e
def test_an_unmet_expectation_blocks_publication_and_says_why(
    demo_build: DemoBuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from assets.common.raw import sha256_file
    from assets.marts import quality

    settings = copy_of_demo(demo_build, tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    published = sha256_file(settings.warehouse_path)
    broken = (
        "flagged value = all customs value",  # cannot hold: only some shipments are flagged
        "select statistical_value_usd from marts.flagged_shipments",
        "select statistical_value_usd from staging.customs_declarations",
    )
    monkeypatch.setattr(quality, "RECONCILIATIONS", (*quality.RECONCILIATIONS, broken))
    assert not cli.build(settings)
    assert sha256_file(settings.warehouse_path) == published
    out = capsys.readouterr().out
    assert "check failed: audit/mart_quality expectations_met" in out
    assert "reconciliation expect_column_pair_values_to_be_equal" in out


def _build_with_publication(warehouse: Warehouse, run_id: str, rows: int) -> dict[str, Any]:
    """A small build file holding two tables and the run's publication record."""
    with warehouse.connect() as con:
        con.execute(
            "create or replace table core.companies as "
            "select range as id, 'company ' || range as name from range($rows)",
            {"rows": rows},
        )
        con.execute(
            "create or replace table marts.totals as select count(*) as n from core.companies"
        )
        tables = table_sums.full_checksums(con)
        con.execute(
            "create table if not exists audit.publications (run_id varchar, table_checksums json)"
        )
        con.execute(
            "insert into audit.publications values ($run, $sums)",
            {"run": run_id, "sums": json.dumps({t: v["checksum"] for t, v in tables.items()})},
        )
    return tables


def test_publication_checks_the_closed_build_file_and_refuses_one_that_differs_from_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets.common.raw import sha256_file

    build = tmp_path / "w.build.duckdb"
    warehouse = Warehouse(build_path=str(build), published_path=str(tmp_path / "w.duckdb"))
    tables = _build_with_publication(warehouse, "run-1", rows=100)
    published = warehouse.publish(
        partial(manifest.verify_build_file, run_id="run-1", expected=tables)
    )
    assert not build.exists()  # renamed into place, not copied
    with duckdb.connect(str(published), read_only=True) as con:
        assert table_sums.full_checksums(con) == tables
        tags = con.execute("select tags from duckdb_databases() where not internal").fetchall()
    assert tags == [({"storage_version": "v1.5.0+"},)]  # DuckDB 1.5 clients can open it
    first = sha256_file(published)

    tables = _build_with_publication(warehouse, "run-2", rows=200)
    with pytest.raises(manifest.PublicationMismatch, match="0 publication records of run run-3"):
        warehouse.publish(partial(manifest.verify_build_file, run_id="run-3", expected=tables))
    assert sha256_file(published) == first

    close = Warehouse.close_database

    def close_then_corrupt(self: Warehouse) -> None:
        close(self)
        with duckdb.connect(str(build)) as con:  # a lost write, a disk lying, another writer
            con.execute("delete from core.companies where id = 7")

    monkeypatch.setattr(Warehouse, "close_database", close_then_corrupt)
    with pytest.raises(manifest.PublicationMismatch) as refused:
        warehouse.publish(partial(manifest.verify_build_file, run_id="run-2", expected=tables))
    assert "run run-2's manifest in 1 table(s): core.companies;" in str(refused.value)
    assert sha256_file(published) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.build.duckdb", "w.duckdb"]

    monkeypatch.setattr(Warehouse, "close_database", close)
    build.unlink()  # the refused build file is discarded, as the next run does
    tables = _build_with_publication(warehouse, "run-2", rows=200)
    warehouse.publish(partial(manifest.verify_build_file, run_id="run-2", expected=tables))
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from core.companies").fetchall() == [(200,)]
    (kept,) = (tmp_path / "history").iterdir()
    assert sha256_file(kept) == first  # the replaced publication, kept by a hard link
    assert not build.exists()


def test_in_a_run_the_publications_beyond_the_newest_few_go_before_the_run_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run frees the oldest kept publication while it ends, not inside publication, and
    has freed it by the time it lets the run lock go (`finish_pruning`)."""
    from assets.common.warehouse import history

    monkeypatch.setenv("CHOKEPOINT_KEEP_PUBLISHED", "1")
    warehouse = Warehouse(
        build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w.duckdb")
    )
    deleted: list[Path] = []
    for day, run in enumerate(("run-1", "run-2", "run-3", "run-4"), start=1):
        with warehouse.connect() as con:
            con.execute(
                "create or replace table audit.publications as "
                "select $run as run_id, make_timestamptz(2026, 1, $day, 0, 0, 0) as published_at",
                {"run": run, "day": day},
            )
        before = set(history(tmp_path / "w.duckdb"))
        warehouse._kept_open = True  # as in a run (`Warehouse.yield_for_execution`)
        warehouse.publish(lambda con: None)
        assert warehouse._pruning is not None  # deleting in the background
        warehouse.finish_pruning()
        warehouse._kept_open = warehouse._published = False
        deleted += sorted(before - set(history(tmp_path / "w.duckdb")))
    (kept,) = history(tmp_path / "w.duckdb")
    assert len(deleted) == 2 and not any(path.exists() for path in deleted)
    with duckdb.connect(str(kept), read_only=True) as con:  # the newest replaced one: run-3's
        assert con.execute("select run_id from audit.publications").fetchall() == [("run-3",)]


@pytest.mark.e2e  # runs of its own
def test_a_run_has_deleted_the_publications_beyond_the_newest_few_when_it_ends(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deletion runs while the run ends, and the run waits for it (a slow one here)."""
    from assets.common import warehouse as warehouse_module
    from assets.common.warehouse import history

    settings = copy_of_demo(demo_build, tmp_path)
    monkeypatch.setenv("CHOKEPOINT_KEEP_PUBLISHED", "1")
    prune = warehouse_module.prune_history

    def slow_prune(published: Path, keep: int) -> list[Path]:
        time.sleep(1.0)
        return prune(published, keep)

    monkeypatch.setattr(warehouse_module, "prune_history", slow_prune)
    for month, source in (("2025-01", "2024-12"), ("2025-02", "2024-11")):
        land_moved_month(settings.landing_dir, month, source=source)
        assert cli.build(settings, (month, month), job_name="load_customs")
        assert len(history(settings.warehouse_path)) == 1, month


def _step_log_runs(database: Path) -> set[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {row[0] for row in con.execute("select run_id from audit.step_log").fetchall()}


@pytest.mark.e2e
def test_a_partial_run_after_a_failed_run_publishes_nothing_the_failed_run_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from assets.common import sql
    from assets.sanctions.sensors import rebuild_after_list_change
    from orchestration.definitions import build_definitions

    settings = settings_for(tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    cli.prepare_dagster_home(settings)
    cli.seed_landing(settings)
    assert cli.build(settings)
    create_table = sql.create_table_from_file

    def fails_in_marts(con: duckdb.DuckDBPyConnection, layer: str, table: str) -> int:
        if layer == "marts":
            raise RuntimeError("disk full")  # raw, staging and core are rebuilt by then
        return create_table(con, layer, table)

    with monkeypatch.context() as failing:
        failing.setattr(sql, "create_table_from_file", fails_in_marts)
        assert not cli.build(settings)
    with dg.DagsterInstance.get() as instance:
        (failed,) = instance.get_runs(limit=1)
        assert failed.status == dg.DagsterRunStatus.FAILURE
        # The failed run did write into the build file: that is what must not be published.
        assert failed.run_id in _step_log_runs(settings.build_path)

        # A sensor-style rebuild of the sanctions-dependent tables only, then publication.
        partial_run = (
            build_definitions(settings)
            .resolve_job_def(rebuild_after_list_change.name)
            .execute_in_process(instance=instance, tags=demo_months(instance))
        )
    assert partial_run.success
    published_runs = _step_log_runs(settings.warehouse_path)
    assert failed.run_id not in published_runs
    assert partial_run.run_id in published_runs
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        publications = con.execute(
            "select run_id, table_checksums from audit.publications order by published_at"
        ).fetchall()
        tags = con.execute("select tags from duckdb_databases() where not internal").fetchall()
    assert [run for run, _ in publications][1:] == [partial_run.run_id]
    # Same inputs as the first publication: same tables, nothing of the failed run.
    assert json.loads(publications[1][1]) == json.loads(publications[0][1])
    assert tags == [({"storage_version": "v1.5.0+"},)]


def test_a_re_execution_continues_its_parents_build_file_and_no_other(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from assets.common.warehouse import continues_parent

    build = tmp_path / "chokepoint.build.duckdb"
    assert not continues_parent("parent", build)  # nothing built yet
    with duckdb.connect(str(build)) as con:
        con.execute("create schema audit")
        con.execute("create table audit.step_log (run_id varchar, logged_at timestamptz)")
        con.execute(
            "insert into audit.step_log values ('other', $early), ('parent', $late)",
            {"early": datetime(2024, 1, 1, tzinfo=UTC), "late": datetime(2024, 1, 2, tzinfo=UTC)},
        )
    assert continues_parent("parent", build)
    assert not continues_parent("other", build)  # a later run wrote since: start from published
    assert not continues_parent(None, build)  # not a re-execution


def _publish_only(settings: Any) -> Any:
    """A run of the publication step alone over a copy of the demo (a fresh Dagster instance)."""
    import dagster as dg

    from assets.common.warehouse import PUBLICATION_KEY
    from orchestration.definitions import build_definitions

    with dg.instance_for_test() as instance:
        return (
            build_definitions(settings)
            .resolve_job_def("build_everything")
            .execute_in_process(
                instance=instance, asset_selection=[PUBLICATION_KEY], raise_on_error=False
            )
        )


@pytest.mark.e2e  # runs of its own
def test_a_publication_that_fails_once_is_retried_and_recorded_once(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    settings = copy_of_demo(demo_build, tmp_path / "data")
    publish = Warehouse.publish
    attempts: list[int] = []

    def busy_once(self: Warehouse, verify: Any) -> Path:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("Device or resource busy")  # a transient failure, after the rows
        return publish(self, verify)

    monkeypatch.setattr(Warehouse, "publish", busy_once)
    result = _publish_only(settings)
    assert result.success
    assert len(attempts) == 2
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        publications = con.execute(
            "select count(*) from audit.publications where run_id = $run", {"run": result.run_id}
        ).fetchall()
        steps = con.execute(
            "select count(*) from audit.step_log where run_id = $run", {"run": result.run_id}
        ).fetchall()
    assert publications == [(1,)]
    assert steps == [(1,)]


@pytest.mark.e2e  # runs of its own
def test_a_publication_whose_reports_fail_after_the_rename_finishes_on_retry(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    import assets.audit

    settings = copy_of_demo(demo_build, tmp_path / "data")
    render = assets.audit.render
    attempts: list[int] = []

    def fails_once(manifest: dict[str, Any], root: str) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("Device or resource busy")  # the warehouse is already renamed
        return render(manifest, root)

    monkeypatch.setattr(assets.audit, "render", fails_once)
    result = _publish_only(settings)
    assert result.success
    assert not settings.build_path.exists()  # published by the first attempt, not rebuilt
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        publications = con.execute(
            "select count(*) from audit.publications where run_id = $run", {"run": result.run_id}
        ).fetchall()
    assert publications == [(1,)]
    folder = settings.reports_dir / "runs" / result.run_id
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == result.run_id and manifest["tables"]
    assert (folder / "report.html").exists()
    assert not (folder / "manifest.pending.json").exists()


def test_a_partial_re_execution_after_another_run_wrote_is_refused(tmp_path: Path) -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    import dagster as dg
    from conftest import record_run

    from assets.common.warehouse import PartialReExecution

    build = tmp_path / "w.build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema audit")
        con.execute("create table audit.step_log (run_id varchar, logged_at timestamptz)")
        con.execute("insert into audit.step_log values ('other', $at)", {"at": datetime.now(UTC)})
    warehouse = Warehouse(build_path=str(build), published_path=str(tmp_path / "w.duckdb"))
    steps = ["raw__customs_declarations", "audit__publications"]
    with dg.instance_for_test() as instance:
        parent = record_run(instance, dg.DagsterRunStatus.FAILURE, step_keys=steps)

        def open_for(run: dg.DagsterRun) -> None:
            context = SimpleNamespace(run=run, instance=instance, log=None)
            with warehouse.yield_for_execution(context):  # type: ignore[arg-type]
                pass

        from_failure = record_run(
            instance, dg.DagsterRunStatus.STARTED, parent_run_id=parent.run_id, step_keys=steps[1:]
        )
        with pytest.raises(PartialReExecution, match="re-execute all steps"):
            open_for(from_failure)
        assert build.exists()  # left as it was
        # every step of the parent again: starts from the published copy (none yet: empty)
        open_for(
            record_run(
                instance, dg.DagsterRunStatus.STARTED, parent_run_id=parent.run_id, step_keys=steps
            )
        )
        assert not build.exists()

        # The parent published, then failed (its reports): re-executing its failed step starts
        # from the published file, which holds every step the parent ran.
        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            con.execute("create schema audit")
            con.execute(
                "create table audit.publications (run_id varchar, published_at timestamptz)"
            )
            con.execute(
                "insert into audit.publications values ($run, $at)",
                {"run": parent.run_id, "at": datetime.now(UTC)},
            )
        open_for(from_failure)
        assert build.exists()  # the published file's copy
        with duckdb.connect(str(build), read_only=True) as con:
            assert con.execute("select run_id from audit.publications").fetchall() == [
                (parent.run_id,)
            ]
