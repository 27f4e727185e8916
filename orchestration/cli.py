"""Command line: `python -m orchestration.cli demo` builds the warehouse from the demo data."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

from assets.common.paths import DEMO_BUNDLE_DIR, REFERENCE_DIR
from orchestration.settings import REPO_ROOT, Settings

_DAGSTER_YAML = """\
# Written by `chokepoint demo`: local SQLite storage under this folder, no telemetry.
telemetry:
  enabled: false
"""


def prepare_dagster_home(settings: Settings) -> None:
    """Point Dagster at its folder inside the data dir, with telemetry off."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(_DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


def seed_landing(settings: Settings) -> list[str]:
    """Copy the bundled demo inputs into the landing area; files already there are kept."""
    sources = [
        (DEMO_BUNDLE_DIR / folder, settings.landing_dir / folder)
        for folder in ("customs", "trade_statistics", "tax", "reference")
    ]
    sources.append((REFERENCE_DIR / "sanctions", settings.landing_dir / "sanctions"))
    sources.append((DEMO_BUNDLE_DIR.parent / "decisions", settings.landing_dir / "decisions"))
    copied = []
    for source_dir, target_dir in sources:
        for source in sorted(source_dir.rglob("*")):
            if not source.is_file():
                continue
            target = target_dir / source.relative_to(source_dir)
            if target.exists():  # a delivery already in the landing area is never replaced
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(str(target.relative_to(settings.landing_dir)))
    return copied


def landed_months(settings: Settings) -> tuple[str, str]:
    """First and last month with a customs file in the landing area."""
    months = sorted(
        path.stem.removeprefix("declarations_")
        for path in (settings.landing_dir / "customs").glob("declarations_*.csv")
    )
    if not months:
        raise SystemExit(f"no customs files in {settings.landing_dir / 'customs'}")
    return months[0], months[-1]


def build(settings: Settings) -> bool:
    """Materialize every asset in one run over the landed months; True when the run succeeded."""
    import dagster as dg
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from orchestration.definitions import build_definitions

    first, last = landed_months(settings)
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("build_everything")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            tags={
                ASSET_PARTITION_RANGE_START_TAG: f"{first}-01",
                ASSET_PARTITION_RANGE_END_TAG: f"{last}-01",
            },
            raise_on_error=False,
        )
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            key = evaluation.asset_check_key
            print(
                f"check failed: {key.asset_key.to_user_string()} {key.name}: "
                f"{evaluation.description or ''}"
            )
    return result.success


def demo(_: argparse.Namespace) -> int:
    settings = Settings.from_env()
    prepare_dagster_home(settings)
    started = time.monotonic()
    copied = seed_landing(settings)
    print(f"landing area: {settings.landing_dir} ({len(copied)} files copied from the demo bundle)")
    ok = build(settings)
    print(f"build {'succeeded' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    print(f"warehouse (read this):  {settings.warehouse_path}")
    print(f"reports:                {settings.reports_dir}")
    print(f"dagster runs and logs:  {settings.dagster_home}")
    if ok:
        print("query it: see README.md, 'A tour of the marts'")
    return 0 if ok else 1


def dictionary(_: argparse.Namespace) -> int:
    from assets.common.dictionary import render

    target = REPO_ROOT / "docs" / "data_dictionary.md"
    target.write_text(render(), encoding="utf-8")
    print(target)
    return 0


def home(_: argparse.Namespace) -> int:
    settings = Settings.from_env()
    prepare_dagster_home(settings)
    print(settings.dagster_home)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chokepoint", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, run, text in (
        ("demo", demo, "seed the landing area with the demo data and build everything"),
        ("dagster-home", home, "create DAGSTER_HOME (telemetry off) and print its path"),
        ("dictionary", dictionary, "write docs/data_dictionary.md from the data contracts"),
    ):
        commands.add_parser(name, help=text).set_defaults(run=run)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
