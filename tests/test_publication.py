"""Readers are never blocked by a build and never see a half-built warehouse."""

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import settings_for

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


def test_a_failed_build_leaves_the_published_warehouse_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets.common.raw import sha256_file

    settings = settings_for(tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    cli.prepare_dagster_home(settings)
    cli.seed_landing(settings)
    assert cli.build(settings)
    published = sha256_file(settings.warehouse_path)
    # A re-delivered month whose header lost a column: the contract rejects the whole file.
    broken = settings.landing_dir / "customs" / "declarations_2024-06.csv"
    lines = broken.read_text(encoding="utf-8").splitlines()
    broken.write_text(
        "\n".join(",".join(line.split(",")[:-1]) for line in lines) + "\n", encoding="utf-8"
    )
    assert not cli.build(settings)
    assert sha256_file(settings.warehouse_path) == published


def test_an_unmet_expectation_blocks_publication_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assets.common.raw import sha256_file
    from assets.marts import quality

    settings = settings_for(tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    cli.prepare_dagster_home(settings)
    cli.seed_landing(settings)
    assert cli.build(settings)
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
