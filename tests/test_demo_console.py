"""`make demo` prints one line per layer and a summary; Dagster's full log goes to a file.

A small job stands in for the pipeline where the console itself is tested (noise from every
source, a failed step); the session's demo build gives the log file and the figures; one slow
test runs `python -m orchestration.cli demo` as `make demo` does.
"""

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from conftest import REPO_ROOT, DemoBuild, settings_for

from orchestration import cli, console
from orchestration.settings import Settings

NOISE = ("Calculating Metrics", "a print from a step", "native noise", "a library's warning")
# A tqdm bar, and the prefix of a line of Dagster's console log.
BAR = re.compile(r"\d+%\|")
DAGSTER_LINE = re.compile(r" - dagster - (DEBUG|INFO|WARNING|ERROR) - ")


def _tiny_definitions(fail: bool) -> dg.Definitions:
    """Three layers; the staging step makes noise every way it can, and fails when `fail`."""

    @dg.asset(key=["raw", "rows"])
    def rows() -> int:
        return 1

    @dg.asset_check(asset=rows)
    def rows_present() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset(key=["staging", "rows"], deps=[rows])
    def staged(context: dg.AssetExecutionContext) -> None:
        from tqdm import tqdm

        for _ in tqdm(range(3), desc="Calculating Metrics", disable=False):
            pass
        print("a print from a step")
        os.write(2, b"native noise\n")
        logging.getLogger("some.library").warning("a library's warning")
        context.log.info("an info line for the log file only")
        context.log.warning("a delivery was held")
        if fail:
            raise ValueError("corrupted input: row 3 has no value")

    @dg.asset(key=["marts", "summary"], deps=[staged])
    def summary() -> None:
        return None

    job = dg.define_asset_job("build_everything", selection=dg.AssetSelection.all())
    return dg.Definitions(assets=[rows, staged, summary], asset_checks=[rows_present], jobs=[job])


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings under tmp_path and a switch to make `build_definitions` give the tiny job."""
    from orchestration import definitions

    settings = settings_for(tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    monkeypatch.delenv("CHOKEPOINT_VERBOSE", raising=False)
    monkeypatch.delenv("CHOKEPOINT_DEBUG", raising=False)
    cli.prepare_dagster_home(settings)
    monkeypatch.setattr(cli, "landed_months", lambda settings: ("2024-01", "2024-01"))

    def use(fail: bool) -> Settings:
        tiny = _tiny_definitions(fail)
        monkeypatch.setattr(definitions, "build_definitions", lambda settings: tiny)
        return settings

    return use


def _log_of(out: str) -> Path:
    """The log file named on the build's first line."""
    found = re.search(r"Dagster's log: (\S+)", out)
    assert found, out
    return Path(found[1])


def test_a_build_shows_one_line_per_layer_and_sends_the_rest_to_its_log(
    tiny: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = tiny(fail=False)
    assert cli.build(settings)
    out, err = capfd.readouterr()
    assert err == ""
    for noise in NOISE:
        assert noise not in out
    assert not BAR.search(out) and not DAGSTER_LINE.search(out)
    lines = out.splitlines()
    log = _log_of(lines[0])
    assert log.parent == settings.data_dir / "logs"
    layers = [line for line in lines if line.startswith(("raw", "staging", "marts"))]
    assert [line.split()[:2] for line in layers] == [
        ["raw", "✓"],
        ["staging", "✓"],
        ["marts", "✓"],
    ]
    assert layers[0].endswith("1 asset, 1 check")
    assert sorted(lines[1:]) == sorted(
        ["  staging__rows: warning: a delivery was held", *layers, "checks: 1 passed, 0 failed"]
    )
    assert lines[-1] == "checks: 1 passed, 0 failed"
    # the file holds Dagster's whole log, debug events included, and all the noise
    text = log.read_text(encoding="utf-8")
    for noise in NOISE:
        assert noise in text
    assert "an info line for the log file only" in text
    for step in ("raw__rows", "staging__rows", "marts__summary"):
        assert f'Finished execution of step "{step}"' in text
    assert "RUN_SUCCESS" in text


def test_a_failed_step_prints_its_error_and_the_log_and_exits_non_zero(
    tiny: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = tiny(fail=True)
    monkeypatch.setenv("CHOKEPOINT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(cli, "seed_landing", lambda settings: [])
    assert cli.main(["demo"]) == 1
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    for noise in NOISE:
        assert noise not in out + err
    log = _log_of(out)
    assert "build FAILED" in out
    layers = [line for line in out.splitlines() if line.startswith(("raw", "staging", "marts"))]
    assert [line.split()[:2] for line in layers] == [["raw", "✓"], ["staging", "✗"], ["marts", "✗"]]
    assert layers[1].endswith("FAILED: staging__rows")
    assert layers[2].endswith("1 of 1 steps not run")
    assert (
        "chokepoint: error: step staging__rows failed: "
        "ValueError: corrupted input: row 3 has no value"
    ) in err
    assert f"chokepoint: Dagster's log, tracebacks included: {log}" in err
    text = log.read_text(encoding="utf-8")
    assert "STEP_FAILURE" in text and 'raise ValueError("corrupted input' in text, text


def test_dagsters_records_have_a_writer_of_their_own(
    tiny: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A text stream written from several threads can lose what is written (CPython gh-118138):
    stray output (any thread's prints) goes to the log file through another file object."""
    settings = tiny(fail=False)
    streams: dict[str, Any] = {}
    make_logger = console.file_logger

    def recording(log: Any, progress: Any) -> Any:
        streams["records"] = log
        streams["stdout"], streams["stderr"] = sys.stdout, sys.stderr
        return make_logger(log, progress)

    monkeypatch.setattr(console, "file_logger", recording)
    assert cli.build(settings)
    records, stdout = streams["records"], streams["stdout"]
    assert records is not stdout and records is not streams["stderr"]
    assert records.name == stdout.name == str(_log_of(capfd.readouterr().out))
    assert "a" in records.mode and "a" in stdout.mode  # appended to: neither overwrites


def test_a_step_out_of_retries_is_named_by_its_own_error() -> None:
    from dagster._utils.error import SerializableErrorInfo

    cause = SerializableErrorInfo("OSError: [Errno 28] No space left on device\n", [], "OSError")
    error = SerializableErrorInfo(
        "Exceeded max_retries of 2\n", [], "RetryRequestedFromPolicy", cause
    )
    assert cli.root_error(error) is cause


def test_verbose_gives_dagsters_console_log_and_no_file(
    tiny: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = tiny(fail=False)
    monkeypatch.setenv("CHOKEPOINT_VERBOSE", "1")
    assert cli.build(settings)
    err = capfd.readouterr().err
    assert DAGSTER_LINE.search(err) and "a delivery was held" in err
    assert not (settings.data_dir / "logs").exists()


def _figures(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """What each headline line must say, from the warehouse's own answers."""
    year, name, inn, usd, shipments, defence = con.execute(
        "select year, importer_name, importer_inn, total_imports_usd, shipments, "
        "defence_sales_share from marts.importer_profile where risk_rank = 1 "
        "order by year desc limit 1"
    ).fetchall()[0]
    flagged, flags = con.execute(
        "select count(distinct declaration_id), count(*) from marts.flagged_shipments"
    ).fetchall()[0]
    versions = sorted(
        row[0]
        for row in con.execute(
            "select distinct sanctions_list_versions from marts.dual_use_trade_monthly"
        ).fetchall()
    )
    met, failed = con.execute(
        "select count(*) filter (where success), count(*) filter (where not success) "
        "from audit.mart_quality"
    ).fetchall()[0]
    return {
        "top importer:": [
            name,
            f"INN {inn}",
            f"in {year}:",
            f"{usd:,.2f} USD",
            f", {shipments} shipments",
            f"{defence:.0%} of its sales to defence buyers",
        ],
        "flagged:": [f"{flagged} shipments ({flags} flags"],
        "lists used:": [", ".join(versions)],
        "expectations:": [f"{met} met, {failed} failed"],
    }


def _assert_figures(lines: list[str], con: duckdb.DuckDBPyConnection) -> None:
    for label, parts in _figures(con).items():
        said = [line for line in lines if line.startswith(label)]
        assert len(said) == 1, (label, lines)
        for part in parts:
            assert part in said[0], (part, said[0])


def test_the_headline_figures_are_the_warehouses(demo_build: DemoBuild) -> None:
    assert demo_build.succeeded, "the demo build failed; see the Dagster logs above"
    lines = console.headline(demo_build.settings.warehouse_path)
    assert len(lines) == 4
    with demo_build.connect() as con:
        _assert_figures(lines, con)


def test_the_demo_builds_log_holds_every_step(demo_build: DemoBuild) -> None:
    from orchestration.definitions import build_definitions

    log = console.latest_log(demo_build.settings)
    assert log is not None and log.parent == demo_build.settings.data_dir / "logs"
    text = log.read_text(encoding="utf-8")
    steps = console.layers_of(
        build_definitions(demo_build.settings).resolve_job_def("build_everything")
    )
    missing = [s for s in steps if f'Finished execution of step "{s}"' not in text]
    assert missing == []
    assert "RUN_SUCCESS" in text


def test_a_headline_query_that_fails_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    lines = console.headline(path)
    assert len(lines) == 4 and all("unavailable (" in line for line in lines)


@pytest.mark.slow  # one more full demo build (about 2 minutes on 2 cores)
def test_make_demo_prints_layers_and_a_summary(tmp_path: Path) -> None:
    from orchestration.definitions import build_definitions

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CHOKEPOINT_") and k != "DAGSTER_HOME"
    }
    env["CHOKEPOINT_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "demo"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown
    assert done.stderr == ""
    assert "Calculating Metrics" not in shown and not BAR.search(shown)
    assert not DAGSTER_LINE.search(shown), shown  # the old console was Dagster's log
    settings = settings_for(tmp_path / "data")
    layers = set(
        console.layers_of(build_definitions(settings).resolve_job_def("build_everything")).values()
    )
    lines = done.stdout.splitlines()
    # landing, log, a line per layer, checks, time, 5 paths, 4 figures, the README pointer
    assert len(lines) <= len(layers) + 14, shown
    assert sorted(line.split()[0] for line in lines if line.split()[0] in layers) == sorted(layers)
    assert all(" ✓ " in line for line in lines if line.split()[0] in layers), shown
    assert re.search(r"^checks: \d+ passed, 0 failed$", done.stdout, re.MULTILINE)
    for label, path in (
        ("warehouse (read this):", settings.warehouse_path),
        ("report:", settings.reports_dir / "report.html"),
        ("Data Docs:", settings.reports_dir / "data_docs" / "index.html"),
    ):
        assert f"{label:<24}{path}" in lines
        assert path.is_file()
    log = _log_of(done.stdout)
    assert f"{'Dagster' + chr(39) + 's log:':<24}{log}" in lines
    assert "RUN_SUCCESS" in log.read_text(encoding="utf-8")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        _assert_figures(lines, con)
