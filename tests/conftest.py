"""Shared fixtures: settings pointed at a temporary folder, and one full demo build per session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.common.paths import DEMO_BUNDLE_DIR
from orchestration.settings import Settings

DEMO_CUSTOMS = DEMO_BUNDLE_DIR / "customs"

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared" / "reference-data"


def shared_file(relative: str) -> Path:
    """A file under ../shared/reference-data, or skip the test with the reason."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/reference-data not present: {relative} unavailable")
    return path


def settings_for(root: Path) -> Settings:
    """Settings with every path under `root`, as the env vars would give them."""
    env = {
        "CHOKEPOINT_ENV": "local",
        "CHOKEPOINT_DATA_DIR": str(root),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return Settings.from_env()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class DemoBuild:
    """A finished demo build: its settings and whether the run succeeded."""

    settings: Settings
    succeeded: bool

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.warehouse_path), read_only=True)


def build_shared_demo(root: Path) -> str:
    """Build the demo in `root` unless it was built there already; "True", "False" (the run
    failed) or "raised ..." (the build raised). Under a file lock: one process builds, and the
    others wait for it and read its outcome."""
    from filelock import FileLock

    from orchestration import cli

    settings = settings_for(root)
    outcome = root.with_name(f"{root.name}.succeeded")
    previous_home = os.environ.get("DAGSTER_HOME")
    try:
        with FileLock(root.with_name(f"{root.name}.lock")):
            cli.prepare_dagster_home(settings)
            if not outcome.exists():
                try:
                    cli.seed_landing(settings)
                    built = cli.build(settings)
                except BaseException as error:
                    # the other workers fail on it too, instead of building in a half-built folder
                    outcome.write_text(f"raised {error!r}", encoding="utf-8")
                    raise
                outcome.write_text(str(built), encoding="utf-8")
        return outcome.read_text(encoding="utf-8")
    finally:
        if previous_home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous_home


def _shared_demo_root(basetemp: Path) -> Path:
    """Where the xdist workers of one session share the demo build (beside their basetemps)."""
    return basetemp / "demo"


_BUILD_IN_BACKGROUND = (
    "import sys; from pathlib import Path; import conftest; "
    "conftest.build_shared_demo(Path(sys.argv[1]))"
)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, the controller starts the shared demo build in a process of its own at once.

    The workers run the tests that need no build meanwhile, and wait for it (its file lock)
    only when a test needs it: no worker sits idle while another builds.
    """
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    if config.option.collectonly:
        return
    root = _shared_demo_root(config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    log = root.with_name(f"{root.name}.log").open("w", encoding="utf-8")
    config._demo_builder = subprocess.Popen(  # type: ignore[attr-defined]
        [sys.executable, "-c", _BUILD_IN_BACKGROUND, str(root)],
        cwd=Path(__file__).parent,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that read the shared demo build run last (the order is otherwise kept): under
    xdist the build runs meanwhile, so that no worker waits for it."""
    items.sort(key=lambda item: "demo_build" in getattr(item, "fixturenames", ()))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop a background demo build that no test waited for (an interrupted session)."""
    builder = getattr(config, "_demo_builder", None)
    if builder is not None and builder.poll() is None:
        builder.terminate()
        try:
            builder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            builder.kill()
            builder.wait()


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[DemoBuild]:
    """Seed a temporary landing area with the demo bundle and build everything once.

    Once for the whole session: under pytest-xdist the controller starts the build in the
    folder the workers share (`pytest_configure`) and the workers wait for it (a build per
    worker cost each of them about 35 s of the same two cores). Tests read it; one that changes
    deliveries works on a copy (`copy_of_demo`).
    """
    if worker_id == "master":  # not under xdist
        root = tmp_path_factory.mktemp("demo")
    else:
        root = _shared_demo_root(tmp_path_factory.getbasetemp().parent)
    result = build_shared_demo(root)
    if result.startswith("raised"):
        log = root.with_name(f"{root.name}.log")
        raise RuntimeError(f"the shared demo build {result} (in another process; see {log})")
    yield DemoBuild(settings_for(root), result == "True")


def copy_of_demo(demo_build: DemoBuild, root: Path) -> Settings:
    """Settings under `root` holding a copy of the demo's landing area and published warehouse.

    Saves a build: a test that changes deliveries starts from what the demo build published.
    """
    import shutil

    from orchestration import cli

    assert demo_build.succeeded, "the demo build failed; see the Dagster logs above"
    settings = settings_for(root)
    for folder in ("landing", "warehouse"):
        shutil.copytree(demo_build.settings.data_dir / folder, settings.data_dir / folder)
    cli.prepare_dagster_home(settings)
    return settings


@pytest.fixture
def warehouse(demo_build: DemoBuild) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published demo warehouse."""
    assert demo_build.succeeded, "the demo build failed; see the Dagster logs above"
    con = demo_build.connect()
    try:
        yield con
    finally:
        con.close()


def demo_months(instance: dg.DagsterInstance) -> dict[str, str]:
    """Register the demo bundle's months in `instance`; the run tags covering all of them."""
    from assets.common.partitions import range_tags, register_months

    months = sorted(p.stem.removeprefix("declarations_") for p in DEMO_CUSTOMS.glob("*.csv"))
    register_months(instance, months)
    return range_tags(months[0], months[-1])


def record_run(
    instance: dg.DagsterInstance,
    status: dg.DagsterRunStatus,
    *,
    tags: dict[str, str] | None = None,
    parent_run_id: str | None = None,
    step_keys: list[str] | None = None,
) -> dg.DagsterRun:
    """A run record as the queue would hold it (nothing executes)."""
    return instance.create_run(
        job_name="build_everything",
        run_id=None,
        run_config=None,
        status=status,
        tags=tags or {},
        root_run_id=parent_run_id,
        parent_run_id=parent_run_id,
        step_keys_to_execute=step_keys,
        execution_plan_snapshot=None,
        job_snapshot=None,
        parent_job_snapshot=None,
        asset_selection=None,
        asset_check_selection=None,
        resolved_op_selection=None,
        op_selection=None,
        remote_job_origin=None,
        job_code_origin=None,
        asset_graph=None,  # type: ignore[arg-type]
    )


def land_moved_month(landing: Path, month: str, source: str = "2024-12") -> Path:
    """Land a copy of a demo customs month as `month`: its dates and its ids' DDMMYY moved.

    The declaration ids stay unique across months (the id carries the day as DDMMYY), so the
    copy passes every contract rule; written beside the target and renamed into place.
    """
    import re

    customs = landing / "customs"
    text = (customs / f"declarations_{source}.csv").read_text(encoding="utf-8")
    old_mmyy, new_mmyy = source[5:] + source[2:4], month[5:] + month[2:4]
    text = re.sub(rf"/([0-9]{{2}}){old_mmyy}/", rf"/\g<1>{new_mmyy}/", text)
    target = customs / f"declarations_{month}.csv"
    partial = target.with_suffix(".part")
    partial.write_text(text.replace(f"{source}-", f"{month}-"), encoding="utf-8")
    partial.replace(target)
    return target
