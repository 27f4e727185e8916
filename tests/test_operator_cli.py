"""The operator's `chokepoint` commands, on a copy of the session's demo build (no extra build)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from conftest import REPO_ROOT, DemoBuild, copy_of_demo, settings_for

from assets.common.raw import sha256_file
from assets.common.run_lock import run_lock
from assets.common.warehouse import Warehouse, history
from orchestration import cli
from orchestration.settings import Settings

SUBCOMMANDS = [
    "demo",
    "dagster-home",
    "dictionary",
    "status",
    "land",
    "build",
    "rollback",
    "query",
    "export",
    "report",
    "screen",
]
HEADER = (
    "declaration_id,declaration_date,importer_name,importer_inn,exporter_name,exporter_country,"
    "origin_country,dispatch_country,commodity_code,goods_description,invoice_value,"
    "invoice_currency,statistical_value_usd,net_weight_kg,quantity,quantity_unit"
)


@pytest.fixture
def demo_copy(demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A copy of the demo's landing area and warehouse, with the env pointing the CLI at it."""
    settings = copy_of_demo(demo_build, tmp_path / "data")
    monkeypatch.setenv("CHOKEPOINT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    return settings


def _last_run_id(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select run_id from audit.publications order by published_at desc limit 1"
        ).fetchall()
    return str(rows[0][0])


# --- help and the console script -------------------------------------------------------------


@pytest.mark.parametrize("command", [[], *([name] for name in SUBCOMMANDS)])
def test_help_on_every_command_exits_0(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([*command, "--help"])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert "usage:" in out
    if command == ["screen"]:  # delegated: the screening tool's own options
        assert "--names" in out


def test_the_console_script_is_installed() -> None:
    script = REPO_ROOT / ".venv" / "bin" / "chokepoint"
    assert script.is_file(), "run `uv sync`: [project.scripts] declares chokepoint"
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    for name in ("status", "land", "rollback", "query", "export", "report", "screen"):
        assert name in done.stdout


def test_unknown_options_and_bad_months_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["status", "--bogus"])
    assert done.value.code == 2
    assert cli.main(["build", "--months", "2024-03..2024-01"]) == 2
    assert "2024-03 comes after 2024-01" in capsys.readouterr().err
    assert cli.main(["build", "--months", "2024-13..2025-01"]) == 2


# --- dagster.yaml: one run at a time, run retries -------------------------------------------


def test_dagster_yaml_queues_one_run_at_a_time_and_retries_runs_once(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    previous = os.environ.get("DAGSTER_HOME")
    try:
        settings.dagster_home.mkdir(parents=True)
        config = settings.dagster_home / "dagster.yaml"
        # what an older version wrote: updated, not left stale
        config.write_text("# Written by `chokepoint demo`: old.\ntelemetry:\n  enabled: false\n")
        cli.prepare_dagster_home(settings)
        assert "max_concurrent_runs: 1" in config.read_text()
        with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
            queue = instance.get_concurrency_config().run_queue_config
            assert queue is not None and queue.max_concurrent_runs == 1
            (limit,) = queue.tag_concurrency_limits
            assert (limit["key"], limit["value"], limit["limit"]) == (
                "chokepoint/writes",
                "warehouse",
                1,
            )
            assert instance.run_monitoring_enabled
            assert instance.run_monitoring_max_runtime_seconds == 21600
            assert instance.run_retries_enabled
            assert instance.run_retries_max_retries == 1
            assert not instance.telemetry_enabled

        # an operator's own file (no "Written by" line) is left alone
        own = "telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 4\n"
        config.write_text(own)
        cli.prepare_dagster_home(settings)
        assert config.read_text() == own
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous


# --- status ----------------------------------------------------------------------------------


def test_status_names_the_last_publication_the_lists_in_force_and_the_last_failure(
    demo_copy: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    @dg.asset
    def doomed() -> None:
        raise RuntimeError("the disk went away")

    with dg.DagsterInstance.get() as instance:
        failed = dg.materialize([doomed], instance=instance, raise_on_error=False)
    assert not failed.success

    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"last publication: run {_last_run_id(demo_copy.warehouse_path)}" in out
    versions = out.split("list versions in force:\n", 1)[1].split("\n", 1)[0]
    assert versions.startswith("  ofac_sdn@2024-02-23 (")  # the latest snapshot, not 02-20
    assert "ofac_sdn@2024-02-20" not in out
    assert "months loaded: 2022-01.." in out
    assert f"last failed run: {failed.run_id}" in out
    assert "step doomed failed: RuntimeError: the disk went away" in out or (
        "step doomed failed: the disk went away" in out
    )


def test_status_without_a_warehouse_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHOKEPOINT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert cli.main(["status"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no published warehouse" in err[0]


# --- land ------------------------------------------------------------------------------------


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(["land", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_land_refuses_a_link_a_stray_name_and_a_wrong_header(
    demo_copy: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = demo_copy.landing_dir
    before = sorted(p.relative_to(landing) for p in landing.rglob("*"))
    good = tmp_path / "declarations_2025-01.csv"
    good.write_text(HEADER + "\n")

    link = tmp_path / "link" / "declarations_2025-01.csv"
    link.parent.mkdir()
    link.symlink_to(good)
    assert "symbolic link" in _refused(capsys, str(link))

    stray = tmp_path / "notes_2025-01.csv"
    stray.write_text(HEADER + "\n")
    assert "matches no contract" in _refused(capsys, str(stray))
    assert "matches no contract" in _refused(capsys, str(good), "--as", "customs/x.csv")
    assert "inside the landing area" in _refused(
        capsys, str(good), "--as", "../customs/declarations_2025-01.csv"
    )
    assert "not a month" in _refused(capsys, str(good), "--as", "customs/declarations_2025-13.csv")

    wrong = tmp_path / "wrong" / "declarations_2025-01.csv"
    wrong.parent.mkdir()
    wrong.write_text(HEADER.replace(",invoice_currency", "") + ",SECRET_COLUMN\n")
    line = _refused(capsys, str(wrong))
    assert "header does not match the contract" in line and "invoice_currency" in line
    assert "SECRET_COLUMN" not in line  # the file's own names are never echoed

    assert sorted(p.relative_to(landing) for p in landing.rglob("*")) == before


def test_land_copies_a_good_file_atomically_and_says_where(
    demo_copy: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = demo_copy.landing_dir / "customs" / "declarations_2022-01.csv"
    good = tmp_path / "declarations_2025-01.csv"
    good.write_bytes(source.read_bytes())
    target = demo_copy.landing_dir / "customs" / "declarations_2025-01.csv"

    renames: list[tuple[Path, Path]] = []
    replace = os.replace

    def spy(src: str | Path, dst: str | Path) -> None:
        renames.append((Path(src), Path(dst)))
        assert Path(src).read_bytes() == good.read_bytes()  # complete before it is renamed
        replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    assert cli.main(["land", str(good)]) == 0
    assert "customs/declarations_2025-01.csv: landed (customs_declarations, month 2025-01)" in (
        capsys.readouterr().out
    )
    assert target.read_bytes() == good.read_bytes()
    ((temporary, renamed),) = renames
    assert renamed == target and temporary.parent == target.parent  # same folder: atomic
    assert not list(target.parent.glob(".*.part"))

    assert cli.main(["land", str(good)]) == 0
    assert "already landed, unchanged" in capsys.readouterr().out

    # a copy that fails half-way leaves the landed file as it was, and no temporary file
    changed = tmp_path / "changed" / "declarations_2025-01.csv"
    changed.parent.mkdir()
    changed.write_text(HEADER + "\n")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    assert cli.main(["land", str(changed)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert target.read_bytes() == good.read_bytes()
    assert not list(target.parent.glob(".*.part"))


# --- query and export ------------------------------------------------------------------------

FORMULA_SQL = "select '=HYPERLINK(\"http://x\")' as label, -3.5 as amount, 'plain' as other"


def test_query_in_each_format(
    demo_copy: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count_sql = "select count(*) as n from marts.flagged_shipments"
    with duckdb.connect(str(demo_copy.warehouse_path), read_only=True) as con:
        expected = con.execute(count_sql).fetchall()[0][0]
    assert expected > 0

    assert cli.main(["query", count_sql, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": expected}]

    assert cli.main(["query", FORMULA_SQL, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows == [{"label": '\'=HYPERLINK("http://x")', "amount": "-3.5", "other": "plain"}]

    assert cli.main(["query", count_sql]) == 0  # a table for the terminal
    assert str(expected) in capsys.readouterr().out

    out = tmp_path / "n.parquet"
    assert cli.main(["query", FORMULA_SQL, "--format", "parquet", "--out", str(out)]) == 0
    assert pl.read_parquet(out)["label"].to_list() == ['=HYPERLINK("http://x")']  # kept exact

    assert cli.main(["query", count_sql, "--format", "parquet"]) == 2  # binary needs --out
    capsys.readouterr()


def test_query_is_read_only_and_bad_sql_is_exit_2(
    demo_copy: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sha256_file(demo_copy.warehouse_path)
    assert cli.main(["query", "delete from marts.flagged_shipments"]) == 2
    assert "read-only" in capsys.readouterr().err.lower()
    assert cli.main(["query", "selec 1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("chokepoint: error:")
    assert sha256_file(demo_copy.warehouse_path) == before


def test_export_writes_a_mart_and_refuses_an_unknown_one(
    demo_copy: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "routes.csv"
    assert cli.main(["export", "transshipment_routes", "--out", str(out)]) == 0
    with duckdb.connect(str(demo_copy.warehouse_path), read_only=True) as con:
        expected = con.execute("select count(*) from marts.transshipment_routes").fetchall()[0][0]
    assert pl.read_csv(out).height == expected > 0
    assert cli.main(["export", "routes; drop table x"]) == 2
    assert "the marts are:" in capsys.readouterr().err


def test_report_prints_the_latest_report(
    demo_copy: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report"]) == 1  # the copy has no reports folder yet
    assert "no report" in capsys.readouterr().err
    demo_copy.reports_dir.mkdir(parents=True)
    (demo_copy.reports_dir / "report.html").write_text("<html></html>")
    assert cli.main(["report"]) == 0
    assert capsys.readouterr().out.strip() == str(demo_copy.reports_dir / "report.html")


# --- publication history and rollback --------------------------------------------------------


def _publish_again(settings: Settings, run_id: str) -> None:
    """A second publication without a build: the published file plus a marker table."""
    warehouse = Warehouse(
        build_path=str(settings.build_path), published_path=str(settings.warehouse_path)
    )
    warehouse.start_from_published()
    with warehouse.connect() as con:
        con.execute(
            "create or replace table marts.marker as select $run as run_id", {"run": run_id}
        )
        con.execute(
            "insert into audit.publications (run_id, published_at) values ($run, now())",
            {"run": run_id},
        )
    warehouse.publish(lambda con: None)


def test_rollback_restores_the_previous_publication(
    demo_build: DemoBuild, demo_copy: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    original = sha256_file(demo_build.settings.warehouse_path)
    first_run = _last_run_id(demo_copy.warehouse_path)
    assert sha256_file(demo_copy.warehouse_path) == original

    _publish_again(demo_copy, "fake-run-2")
    assert _last_run_id(demo_copy.warehouse_path) == "fake-run-2"
    (kept,) = history(demo_copy.warehouse_path)
    assert kept.name.endswith(f"-{first_run}.duckdb")

    assert cli.main(["rollback", "--list"]) == 0
    assert str(kept) in capsys.readouterr().out

    assert cli.main(["rollback"]) == 0
    assert sha256_file(demo_copy.warehouse_path) == original  # byte for byte the first one
    assert _last_run_id(demo_copy.warehouse_path) == first_run
    with duckdb.connect(str(demo_copy.warehouse_path), read_only=True) as con:
        assert not con.execute(
            "select count(*) from duckdb_tables() where table_name = 'marker'"
        ).fetchall()[0][0]
    aside = list((demo_copy.warehouse_path.parent / "history" / "rolled_back").iterdir())
    assert [p.name.endswith("-fake-run-2.duckdb") for p in aside] == [True]
    assert history(demo_copy.warehouse_path) == []

    assert cli.main(["rollback"]) == 1  # nothing kept any more: the rolled-back file is aside
    assert "no earlier publication kept" in capsys.readouterr().err


def test_publication_keeps_only_the_newest_n_and_rollback_waits_for_no_build(
    demo_copy: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHOKEPOINT_KEEP_PUBLISHED", "1")
    _publish_again(demo_copy, "fake-run-2")
    _publish_again(demo_copy, "fake-run-3")
    (kept,) = history(demo_copy.warehouse_path)
    assert kept.name.endswith("-fake-run-2.duckdb")

    lock = demo_copy.build_path.with_name(demo_copy.build_path.name + ".lock")
    before = sha256_file(demo_copy.warehouse_path)
    with run_lock(lock, "a-running-build", wait_seconds=0):
        assert cli.main(["rollback"]) == 1
        err = capsys.readouterr().err
        assert "being built by run a-running-build" in err
        assert sha256_file(demo_copy.warehouse_path) == before
    assert cli.main(["rollback"]) == 0
    assert _last_run_id(demo_copy.warehouse_path) == "fake-run-2"
    # files rolled back are kept as many as publications are: the newest one
    _publish_again(demo_copy, "fake-run-5")
    assert cli.main(["rollback"]) == 0
    aside = demo_copy.warehouse_path.parent / "history" / "rolled_back"
    assert [p.name.split("-", 1)[1] for p in aside.iterdir()] == ["fake-run-5.duckdb"]

    monkeypatch.setenv("CHOKEPOINT_KEEP_PUBLISHED", "many")
    with pytest.raises(ValueError, match="CHOKEPOINT_KEEP_PUBLISHED"):
        _publish_again(demo_copy, "fake-run-4")
    assert _last_run_id(demo_copy.warehouse_path) == "fake-run-2"  # nothing published
