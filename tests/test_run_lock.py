"""One writer per warehouse: a second run waits for the first, or declines naming it."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import REPO_ROOT, settings_for

from assets.common.run_lock import Holder, WarehouseBusy, read_holder, run_lock
from orchestration import cli

HOLD_UNTIL_KILLED = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from assets.common.run_lock import run_lock

    with run_lock(Path(sys.argv[1]), "doomed-run", wait_seconds=0):
        print("locked", flush=True)
        time.sleep(600)
    """
)

BUILD = textwrap.dedent(
    """
    import sys
    from orchestration import cli
    from orchestration.settings import Settings

    settings = Settings.from_env()
    cli.prepare_dagster_home(settings)
    sys.exit(0 if cli.build(settings) else 1)
    """
)


def test_a_second_locker_declines_naming_the_holder_and_since_when(tmp_path: Path) -> None:
    path = tmp_path / "w.build.duckdb.lock"
    with run_lock(path, "first-run", wait_seconds=0) as holder:
        assert read_holder(path) == holder
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as declined, run_lock(path, "second", wait_seconds=0.5):
            pytest.fail("two holders at once")
        assert 0.5 <= time.monotonic() - started < 5
    message = str(declined.value)
    assert "run first-run" in message
    assert f"pid {os.getpid()}" in message
    assert f"since {holder.started_at}" in message
    assert read_holder(path) is None  # released: nobody is named any more


def test_a_waiting_locker_is_told_who_it_waits_for_and_goes_ahead_on_release(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.build.duckdb.lock"
    seen: list[Holder | None] = []
    first = run_lock(path, "first-run", wait_seconds=0)
    first.__enter__()
    releaser = threading.Timer(1.0, first.__exit__, (None, None, None))
    releaser.start()
    started = time.monotonic()
    with run_lock(path, "second-run", wait_seconds=30, poll_seconds=0.1, on_wait=seen.append):
        waited = time.monotonic() - started
        holder = read_holder(path)
    releaser.join()
    assert 0.9 <= waited < 10
    assert len(seen) == 1 and seen[0] is not None and seen[0].run_id == "first-run"
    assert holder is not None and holder.run_id == "second-run"


def test_a_killed_holder_never_blocks_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "w.build.duckdb.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_UNTIL_KILLED, str(path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseBusy, match="doomed-run"), run_lock(path, "x", wait_seconds=0):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with run_lock(path, "next-run", wait_seconds=0) as taken:  # no waiting: the OS released it
        assert taken.run_id == "next-run"


def test_a_sensor_reading_the_warehouse_neither_waits_for_a_build_nor_resets_it(
    tmp_path: Path,
) -> None:
    import dagster as dg

    from assets.common.warehouse import Warehouse

    warehouse = Warehouse(
        build_path=str(tmp_path / "w.build.duckdb"),
        published_path=str(tmp_path / "w.duckdb"),
        lock_wait_seconds=1,  # were it to wait, it would decline instead of hanging the test
    )
    with warehouse.connect() as con:
        con.execute("create table core.half_built as select 1 as n")
    before = Path(warehouse.build_path).read_bytes()
    with run_lock(warehouse.lock_path, "a-build", wait_seconds=0):
        started = time.monotonic()
        with dg.build_sensor_context(resources={"warehouse": warehouse}) as context:
            assert context.resources.warehouse.published_path == warehouse.published_path
        assert time.monotonic() - started < 5
    assert Path(warehouse.build_path).read_bytes() == before


def _start_build(settings_env: dict[str, str], wait_seconds: float) -> subprocess.Popen[str]:
    env = {**os.environ, **settings_env, "CHOKEPOINT_LOCK_WAIT_SECONDS": str(wait_seconds)}
    return subprocess.Popen(
        [sys.executable, "-c", BUILD],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow  # three full builds (about 6 minutes); the lock itself is tested above and below
def test_builds_started_together_wait_or_decline_and_never_both_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three CLI builds at once: one builds, one waits then builds, an impatient one declines."""
    root = tmp_path / "data"
    settings = settings_for(root)
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    cli.prepare_dagster_home(settings)
    cli.seed_landing(settings)
    env = {"CHOKEPOINT_DATA_DIR": str(root), "DAGSTER_HOME": str(settings.dagster_home)}
    lock = Path(str(settings.build_path) + ".lock")

    first = _start_build(env, wait_seconds=0)
    deadline = time.monotonic() + 300
    while (holder := read_holder(lock)) is None or holder.pid != first.pid:
        assert first.poll() is None, first.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "the first build never took the lock"
        time.sleep(0.2)
    waiting = _start_build(env, wait_seconds=1800)
    impatient = _start_build(env, wait_seconds=2)

    impatient_out = impatient.communicate(timeout=600)[0]
    assert first.poll() is None, "the first build ended before the impatient one was refused"
    first_out = first.communicate(timeout=900)[0]
    waiting_out = waiting.communicate(timeout=900)[0]

    assert first.returncode == 0, first_out[-3000:]
    assert waiting.returncode == 0, waiting_out[-3000:]
    assert impatient.returncode == 1
    assert f"the warehouse is being built by run {holder.run_id}" in impatient_out
    assert f"since {holder.started_at}" in impatient_out
    assert f"for run {holder.run_id}" in waiting_out  # it said whom it waited for

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        publications = con.execute(
            "select run_id, table_checksums from audit.publications order by published_at"
        ).fetchall()
    finally:
        con.close()
    # The waiting run published after the first, starting from its published copy.
    assert len(publications) == 2
    assert publications[0][0] == holder.run_id
    assert json.loads(publications[0][1]) == json.loads(publications[1][1])


@pytest.mark.e2e  # two builds of its own
def test_a_declined_build_says_which_run_holds_the_warehouse_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assets.common.run_lock import run_lock
    from orchestration import cli

    monkeypatch.setenv("CHOKEPOINT_LOCK_WAIT_SECONDS", "0.5")
    settings = settings_for(tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    cli.prepare_dagster_home(settings)
    cli.seed_landing(settings)
    lock = Path(str(settings.build_path) + ".lock")
    with run_lock(lock, "holder-run-123", wait_seconds=0):
        assert not cli.build(settings)
    err = capsys.readouterr().err
    assert (
        "chokepoint: error: could not start: the warehouse is being built by run holder-run-123"
        in err
    )
    assert "Traceback" not in err
