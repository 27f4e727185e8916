"""Shared fixtures: settings pointed at a temporary folder, and one full demo build per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import Settings

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


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoBuild]:
    """Seed a temporary landing area with the demo bundle and build everything once."""
    from orchestration import cli

    settings = settings_for(tmp_path_factory.mktemp("demo"))
    previous_home = os.environ.get("DAGSTER_HOME")
    cli.prepare_dagster_home(settings)
    try:
        cli.seed_landing(settings)
        yield DemoBuild(settings, cli.build(settings))
    finally:
        if previous_home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous_home


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
