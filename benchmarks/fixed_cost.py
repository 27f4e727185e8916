"""Benchmark: the fixed cost every run pays, on the demo bundle (issue 15, targets 2 and 3).

Prints, measured in one run on this machine:
- importing the definitions (`import orchestration.definitions` in a fresh interpreter, best
  of three; target 1.5 s);
- `python -m orchestration.cli demo` from an empty data folder, wall time (target 12 s), and
  where the run's time went by step (`marts_10m.print_steps`);
- a list change on a published demo warehouse: the real OFAC SDN of 2024-02-23 landed, then
  the `rebuild_after_list_change` job the sanctions sensor launches (target 8 s of run time),
  against a full build of the same warehouse in the same process.

Run with `python benchmarks/fixed_cost.py`; not part of CI.
"""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from marts_10m import print_steps  # noqa: E402  (the script's own folder is on the path)


def import_seconds() -> float:
    """Best of three fresh interpreters importing the definitions."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import orchestration.definitions"], cwd=REPO, check=True
        )
        best = min(best, time.perf_counter() - started)
    return best


def _children_cpu() -> float:
    """CPU seconds (user and system) of this process's ended children and their descendants."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def demo_seconds(root: Path) -> tuple[float, float]:
    """Wall time of `python -m orchestration.cli demo` into `root`, and the CPU time of all its
    processes (the run's, the suites' worker, the matcher's build ahead): on 2 cores the wall
    time cannot be under half of it, and other tenants of the machine change it less."""
    env = {**os.environ, "CHOKEPOINT_DATA_DIR": str(root), "DAGSTER_HOME": str(root / "dh")}
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "demo"],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, _children_cpu() - cpu


def list_change_seconds(root: Path) -> tuple[float, float]:
    """(full build, list-change rebuild) run seconds on the demo, in one process."""
    os.environ.update({"CHOKEPOINT_DATA_DIR": str(root), "DAGSTER_HOME": str(root / "dh")})
    from orchestration import cli
    from orchestration.settings import Settings

    settings = Settings.from_env()
    cli.prepare_dagster_home(settings)
    cli.seed_landing(settings)
    later = settings.landing_dir / "sanctions" / "ofac_sdn" / "sdn_2024-02-23.csv"
    kept = root / later.name
    shutil.move(later, kept)
    started = time.perf_counter()
    if not cli.build(settings):
        raise SystemExit("the first build failed")
    full = time.perf_counter() - started
    shutil.move(kept, later)
    # the sensor launches the rebuild as a process of its own: nothing parsed by the first build
    from assets.sanctions.registry import forget_parsed

    forget_parsed()
    started = time.perf_counter()
    if not cli.build(settings, job_name="rebuild_after_list_change"):
        raise SystemExit("the list-change rebuild failed")
    return full, time.perf_counter() - started


def main() -> None:
    print(f"importing the definitions: {import_seconds():.2f} s (best of 3; target 1.5 s)")
    with tempfile.TemporaryDirectory(prefix="chokepoint-fixed-") as tmp:
        demo = Path(tmp) / "demo"
        seconds, cpu = demo_seconds(demo)
        print(
            f"python -m orchestration.cli demo: {seconds:.1f} s (target 12 s); "
            f"CPU of its processes {cpu:.1f} s"
        )
        print_steps(demo / "dh", seconds)
        full, change = list_change_seconds(Path(tmp) / "list_change")
    print(
        f"list change (sdn_2024-02-23 landed, rebuild_after_list_change): {change:.1f} s "
        f"(target 8 s); full build in the same process {full:.1f} s = {change / full:.0%}"
    )


if __name__ == "__main__":
    main()
