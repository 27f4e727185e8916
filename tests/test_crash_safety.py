"""A build killed at any point leaves the published warehouse intact, and the next run is clean.

A driver process runs the CLI build with one function patched to SIGKILL the process at a chosen
point: nothing in the pipeline gets a chance to clean up, as after a power cut or the OOM killer.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import REPO_ROOT, settings_for

from assets.common.raw import sha256_file
from orchestration import cli
from orchestration.settings import Settings

pytestmark = pytest.mark.e2e  # builds of its own: `make test-e2e`

DRIVER = textwrap.dedent(
    """
    import os, shutil, signal, sys
    from pathlib import Path

    from assets.audit import manifest
    from assets.common import ingest, sql, table_sums
    from orchestration import cli
    from orchestration.settings import Settings

    point = sys.argv[1]
    settings = Settings.from_env()


    def die():
        os.kill(os.getpid(), signal.SIGKILL)


    def kill_after(module, name, when):
        real = getattr(module, name)

        def patched(*args, **kwargs):
            result = real(*args, **kwargs)
            if when(*args, **kwargs):
                die()
            return result

        setattr(module, name, patched)


    def kill_half_way_through_copy(suffix):
        real = shutil.copyfile

        def copyfile(src, dst, *args, **kwargs):
            if str(dst).endswith(suffix):
                data = Path(src).read_bytes()
                Path(dst).write_bytes(data[: len(data) // 2])
                die()
            return real(src, dst, *args, **kwargs)

        shutil.copyfile = copyfile


    if point == "raw_ingest":  # the landed files have been scanned into raw, staging not built
        kill_after(ingest, "_store_raw", lambda *a, **k: True)
    elif point == "core_sql":  # a core table has been rebuilt, its dependants not
        kill_after(sql, "create_table_from_file", lambda *a, **k: a[1] == "core")
    elif point == "manifest":  # the publication step is computing the run's checksums
        kill_after(table_sums, "checksums", lambda *a, **k: True)
    elif point == "start_copy":  # the run is copying the published file into its build file
        kill_half_way_through_copy(".starting")
    elif point == "publish_check":  # the closed build file has been checked for publication
        kill_after(manifest, "verify_build_file", lambda *a, **k: True)
    elif point == "before_rename":  # the checked build file is about to replace the published
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if Path(dst) == settings.warehouse_path:
                die()
            return real_replace(src, dst, *args, **kwargs)

        os.replace = replace
    elif point != "none":
        raise SystemExit(f"unknown kill point {point}")

    cli.prepare_dagster_home(settings)
    sys.exit(0 if cli.build(settings) else 1)
    """
)


@dataclass(frozen=True)
class Published:
    """A data folder after a clean build: the published file's bytes and its table checksums."""

    root: Path
    sha256: str
    checksums: dict[str, str]


def _drive(root: Path, point: str) -> subprocess.CompletedProcess[str]:
    settings = settings_for(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHOKEPOINT_")}
    env.update(CHOKEPOINT_DATA_DIR=str(root), DAGSTER_HOME=str(settings.dagster_home))
    return subprocess.run(
        [sys.executable, "-c", DRIVER, point],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _publications(settings: Settings) -> list[tuple[str, dict[str, str]]]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "select run_id, table_checksums from audit.publications order by published_at"
        ).fetchall()
    finally:
        con.close()
    return [(run_id, json.loads(sums)) for run_id, sums in rows]


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """One clean build from an empty warehouse, the reference for every kill point."""
    root = tmp_path_factory.mktemp("clean") / "data"
    settings = settings_for(root)
    cli.seed_landing(settings)
    done = _drive(root, "none")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ((_, checksums),) = _publications(settings)
    return Published(root, sha256_file(settings.warehouse_path), checksums)


@pytest.mark.parametrize(
    "point",
    [
        pytest.param("raw_ingest", marks=pytest.mark.slow),
        "core_sql",
        pytest.param("manifest", marks=pytest.mark.slow),
        pytest.param("start_copy", marks=pytest.mark.slow),
        pytest.param("publish_check", marks=pytest.mark.slow),
        pytest.param("before_rename", marks=pytest.mark.slow),
    ],
)
def test_a_killed_build_leaves_the_published_warehouse_intact(
    point: str, clean_build: Published, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    shutil.copytree(clean_build.root, root)
    settings = settings_for(root)

    killed = _drive(root, point)
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-3000:] + killed.stderr[-3000:]
    assert sha256_file(settings.warehouse_path) == clean_build.sha256
    assert len(_publications(settings)) == 1  # it still opens, and holds the clean build only

    after = _drive(root, "none")
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    publications = _publications(settings)
    assert len(publications) == 2
    assert publications[-1][1] == clean_build.checksums
    leftovers = sorted(p.name for p in settings.warehouse_path.parent.glob("*.duckdb.*"))
    assert leftovers == [settings.build_path.name + ".lock"]
