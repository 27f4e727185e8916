"""The operator's command line fails with one clear line, a non-zero exit code and no traceback."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from conftest import REPO_ROOT, settings_for

from orchestration import cli
from orchestration.settings import Settings

PATH_VARIABLES = (
    "CHOKEPOINT_DATA_DIR",
    "CHOKEPOINT_LANDING_DIR",
    "CHOKEPOINT_WAREHOUSE",
    "CHOKEPOINT_REPORTS_DIR",
    "DAGSTER_HOME",
    "CHOKEPOINT_DEBUG",
)


@pytest.fixture
def data_dir_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the CLI at a data dir through CHOKEPOINT_DATA_DIR alone (restored afterwards)."""
    for name in PATH_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def point_at(path: Path) -> None:
        monkeypatch.setenv("CHOKEPOINT_DATA_DIR", str(path))

    yield point_at


def one_error_line(err: str) -> str:
    """The single `chokepoint: error:` line of a stderr, asserting there is nothing else."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("chokepoint: error: ")
    return lines[0]


def test_a_data_dir_below_a_file_is_one_line(
    tmp_path: Path, data_dir_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    data_dir_env(blocker / "data")
    assert cli.main(["demo"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert f"cannot create {blocker / 'data'}" in line and "CHOKEPOINT_DATA_DIR" in line


def test_a_data_dir_that_is_a_file_is_one_line(
    tmp_path: Path, data_dir_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("x")
    data_dir_env(blocker)
    assert cli.main(["demo"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert f"{blocker} exists and is not a folder" in line


def test_the_write_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    cli.check_writable(cli.writable_folders(settings))
    created = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert created == [
        "data",
        "data/dagster_home",
        "data/landing",
        "data/reports",
        "data/warehouse",
    ]


def _read_only_command(folder: Path) -> list[str]:
    """A command that runs `demo` with `folder` read-only, as this user can arrange it."""
    demo = [sys.executable, "-m", "orchestration.cli", "demo"]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return demo
    # root writes through chmod; a read-only bind mount in a private mount namespace does not.
    mount = f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}'"
    private = ["unshare", "-m", "sh", "-c", f'{mount} && exec "$@"', "sh"]
    if (
        shutil.which("unshare") is None
        or subprocess.run([*private, "true"], capture_output=True, check=False).returncode
    ):
        pytest.skip("running as root without mount namespaces: cannot make a folder read-only")
    return [*private, *demo]


@pytest.mark.parametrize("existing", [False, True], ids=["new", "used-before"])
def test_a_read_only_data_dir_is_one_line(tmp_path: Path, existing: bool) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if existing:  # a data dir with Dagster's storage from an earlier run
        (data / "dagster_home").mkdir()
        sqlite3.connect(data / "dagster_home" / "runs.db").close()
    env = {k: v for k, v in os.environ.items() if k not in PATH_VARIABLES}
    env["CHOKEPOINT_DATA_DIR"] = str(data)
    try:
        done = subprocess.run(
            _read_only_command(data),
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        data.chmod(0o755)
    assert done.returncode == 1, done.stderr
    line = one_error_line(done.stderr)
    assert "cannot write in" in line and str(data) in line
    assert "Read-only file system" in line or "Permission denied" in line


def test_a_full_disk_while_seeding_is_one_line(
    tmp_path: Path,
    data_dir_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir_env(tmp_path / "data")

    def full(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(cli, "shutil", type("FullDisk", (), {"copyfile": staticmethod(full)}))
    assert cli.main(["demo"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "No space left on device: " + str(tmp_path / "data" / "landing") in line
    assert "free space and run again" in line
    assert "published warehouse" in line and "is unchanged" in line


def test_dagster_storage_refusing_writes_is_one_line(
    tmp_path: Path,
    data_dir_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir_env(tmp_path / "data")
    monkeypatch.setattr(cli, "seed_landing", lambda settings: [])

    def refused(settings: Settings) -> bool:
        try:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        except sqlite3.OperationalError as error:
            raise RuntimeError("storage wrapper") from error  # as SQLAlchemy wraps it

    monkeypatch.setattr(cli, "build", refused)
    assert cli.main(["demo"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "Dagster's storage in" in line and "readonly database" in line
    assert str(tmp_path / "data" / "dagster_home") in line


def test_a_bug_keeps_its_traceback(
    tmp_path: Path, data_dir_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir_env(tmp_path / "data")
    monkeypatch.setattr(cli, "seed_landing", lambda settings: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main(["demo"])


def test_debug_shows_the_traceback_of_an_expected_error(
    tmp_path: Path, data_dir_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("x")
    data_dir_env(blocker)
    monkeypatch.setenv("CHOKEPOINT_DEBUG", "1")
    with pytest.raises(cli.CommandError, match="exists and is not a folder"):
        cli.main(["demo"])


def _tiny_definitions(published: Path, disk_full: list[bool]) -> dg.Definitions:
    """A two-step build_everything whose publish step meets a full disk while `disk_full[0]`."""

    @dg.asset
    def table() -> int:
        return 1

    @dg.asset(deps=[table])
    def publications() -> None:
        staging = published.with_name(published.name + ".publishing")
        if disk_full[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(staging))
        staging.write_text("new")
        os.replace(staging, published)

    job = dg.define_asset_job("build_everything", selection=dg.AssetSelection.all())
    return dg.Definitions(assets=[table, publications], jobs=[job])


def test_a_failed_step_is_named_with_its_error_and_the_next_run_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from orchestration import definitions

    settings = settings_for(tmp_path / "data")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    cli.prepare_dagster_home(settings)
    settings.warehouse_path.parent.mkdir(parents=True)
    settings.warehouse_path.write_text("previous")
    disk_full = [True]
    tiny = _tiny_definitions(settings.warehouse_path, disk_full)
    monkeypatch.setattr(definitions, "build_definitions", lambda settings: tiny)
    monkeypatch.setattr(cli, "landed_months", lambda settings: ("2024-01", "2024-01"))

    assert not cli.build(settings)
    err = capfd.readouterr().err
    assert "Traceback" not in err and 'File "' not in err
    staging = f"{settings.warehouse_path}.publishing"
    assert (
        f"chokepoint: error: step publications failed: OSError: [Errno {errno.ENOSPC}] "
        f"No space left on device: '{staging}'"
    ) in err
    assert (
        f"chokepoint: the published warehouse {settings.warehouse_path} is unchanged; "
        "free space and run again"
    ) in err
    assert settings.warehouse_path.read_text() == "previous"

    disk_full[0] = False
    assert cli.build(settings)
    assert "chokepoint: error" not in capfd.readouterr().err
    assert settings.warehouse_path.read_text() == "new"


@pytest.mark.slow  # two full demo builds
def test_the_demo_after_a_full_disk_at_publication_succeeds_once_space_is_freed(
    tmp_path: Path,
    data_dir_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """End to end on the real pipeline: publication meets a full disk, then not."""
    from assets.common import warehouse

    data_dir_env(tmp_path / "data")
    settings = Settings.from_env()
    fsync = os.fsync
    disk_full = [True]

    def fsync_on_a_full_disk(fd: int) -> None:
        # where a full disk shows when the file system allocates late: syncing the build file
        if disk_full[0] and os.path.realpath(f"/proc/self/fd/{fd}") == os.path.realpath(
            settings.build_path
        ):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(settings.build_path))
        fsync(fd)

    monkeypatch.setattr(warehouse.os, "fsync", fsync_on_a_full_disk)
    assert cli.main(["demo"]) == 1
    out, err = capfd.readouterr()
    assert "Traceback" not in err
    assert "build FAILED" in out
    failures = [line for line in err.splitlines() if line.startswith("chokepoint:")]
    assert any("No space left on device" in line for line in failures), failures
    assert str(settings.warehouse_path) in err
    assert f"the published warehouse {settings.warehouse_path} is unchanged" in err
    assert not settings.warehouse_path.exists()

    disk_full[0] = False
    assert cli.main(["demo"]) == 0, capfd.readouterr().err
    assert settings.warehouse_path.exists()


def test_the_command_ends_without_teardown_but_after_its_threads_exit_handlers_and_output(
    tmp_path: Path,
) -> None:
    """`exit_now` skips the interpreter's teardown (0.4-0.7 s a command), not what an exit
    owes: a thread still working, an exit handler, buffered output, the exit code."""
    code = (
        "import atexit, pathlib, sys, threading, time\n"
        "from orchestration import cli\n"
        f"folder = pathlib.Path({str(tmp_path)!r})\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    (folder / 'thread').write_text('done')\n"
        "threading.Thread(target=late).start()\n"
        "atexit.register(lambda: (folder / 'atexit').write_text('done'))\n"
        "sys.stdout.write('no newline, still buffered')\n"
        "cli.exit_now(3)\n"
        "(folder / 'after').write_text('never')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == "no newline, still buffered"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atexit", "thread"]
    # the command itself goes through it, its exit code kept
    usage = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "dagster-home"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CHOKEPOINT_DATA_DIR": str(tmp_path / "data")},
    )
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.strip().endswith("dagster_home")
