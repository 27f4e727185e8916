"""Benchmark: the floor under the fixed cost, what the stack costs before any data work (issue 15).

The demo build and a list change run the project's assets under Dagster, and Great Expectations
validates the marts. This measures, on the same machine and in one run, what those cost when
the assets do nothing:
- a fresh interpreter, one importing Dagster, one importing the definitions (best of three);
- the two jobs (`build_everything`, `rebuild_after_list_change`) over no-op copies of the
  project's assets: the same keys, dependencies, partitions, checks and steps, each step only
  reporting its materializations and passing checks, in the project's Dagster instance
  configuration (SQLite storage, kept event-log connections, in-process executor) over the
  demo's months;
- Great Expectations alone: the marts' suites over a published demo warehouse, in process,
  after its import (`suites.run_suites`).
Their sum is a floor for the demo build and the list change with this stack and this graph.

Run with `python benchmarks/dagster_floor.py` (it builds a demo warehouse first, about 30 s);
`benchmarks/fixed_cost.py` prints the same figures after its own.
"""

import functools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def fresh_seconds(code: str) -> float:
    """Best of three fresh interpreters running `code`."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def _noop_copy(assets_def: dg.AssetsDefinition) -> Any:
    """A multi-asset with the same keys, dependencies, partitions, checks and step as
    `assets_def`, whose step only reports its materializations and passing checks."""
    checks = list(assets_def.check_specs)
    if not list(assets_def.specs):  # checks defined apart from their asset: a step of their own

        @dg.multi_asset_check(specs=checks, name=assets_def.node_def.name, can_subset=True)
        def noop_checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
            for check in checks:
                if check.key in context.selected_asset_check_keys:
                    yield dg.AssetCheckResult(
                        asset_key=check.asset_key, check_name=check.name, passed=True
                    )

        return noop_checks

    @dg.multi_asset(
        specs=list(assets_def.specs),
        check_specs=checks,
        name=assets_def.node_def.name,
        can_subset=True,
        backfill_policy=assets_def.backfill_policy,
    )
    def noop(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        selected = context.selected_asset_check_keys
        for key in sorted(context.selected_asset_keys):
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={"rows": 0},
                check_results=[
                    dg.AssetCheckResult(asset_key=key, check_name=check.name, passed=True)
                    for check in checks
                    if check.asset_key == key and check.key in selected
                ],
            )

    return noop


@functools.cache
def noop_definitions() -> Any:
    """The project's definitions with every executable asset replaced by its no-op copy."""
    import dagster as dg

    from orchestration import definitions

    real = definitions.build_definitions()
    graph = real.resolve_asset_graph()
    copies = [_noop_copy(a) for a in graph.assets_defs if a.is_executable]
    jobs = [definitions.build_everything, definitions.rebuild_after_list_change]
    return dg.Definitions(
        assets=[c for c in copies if not isinstance(c, dg.AssetChecksDefinition)],
        asset_checks=[c for c in copies if isinstance(c, dg.AssetChecksDefinition)],
        jobs=jobs,
        executor=dg.in_process_executor,
    )


def noop_run_seconds(settings: Any, job_name: str) -> tuple[float, int]:
    """Wall seconds of `job_name` over the no-op assets, run as `chokepoint build` runs it (the
    instance, the months, the kept event-log connections), and its step count."""
    import dagster as dg

    from assets.common.landing import months_delivered
    from assets.common.partitions import range_tags, register_months
    from orchestration import cli
    from orchestration.sqlite_storage import event_log_kept_open

    job = noop_definitions().resolve_job_def(job_name)
    months = cli.landed_months(settings)
    with dg.DagsterInstance.get() as instance:
        register_months(instance, months_delivered(settings.landing_dir))
        run_id = str(uuid.uuid4())  # Dagster requires a UUID
        started = time.perf_counter()
        with event_log_kept_open(instance, run_id):
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                tags=range_tags(*months) if job.partitions_def is not None else {},
                raise_on_error=True,
            )
        seconds = time.perf_counter() - started
        steps = len(instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS))
    assert result.success
    return seconds, steps


def job_marts(job_name: str) -> tuple[str, ...]:
    """The marts a job rebuilds (those its run validates)."""
    from assets.marts.catalog import MARTS

    job = noop_definitions().resolve_job_def(job_name)
    selected = {key.path[-1] for key in job.asset_layer.executable_asset_keys}
    return tuple(mart for mart in MARTS if mart in selected)


def suites_seconds(settings: Any, marts: tuple[str, ...]) -> float:
    """Great Expectations alone: the marts' suites over the published warehouse, in process,
    the import excluded."""
    import duckdb

    from assets.marts.gx_import import great_expectations

    great_expectations()  # (imported before the clock starts, as the suites import it)

    from assets.marts import suites

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        with tempfile.TemporaryDirectory() as docs:
            suites.run_suites(con, Path(docs), marts)  # warm: GX's context is built once
            started = time.perf_counter()
            suites.run_suites(con, Path(docs), marts)
            return time.perf_counter() - started
    finally:
        con.close()


def report(settings: Any) -> None:
    """Print the floor on the published demo warehouse of `settings` (DAGSTER_HOME set)."""
    interpreter = fresh_seconds("pass")
    dagster = fresh_seconds("import dagster")
    definitions = fresh_seconds("import orchestration.definitions")
    print(
        f"fresh interpreter {interpreter:.2f} s; importing Dagster {dagster:.2f} s; "
        f"importing the definitions {definitions:.2f} s (best of 3 each)"
    )
    build, build_steps = noop_run_seconds(settings, "build_everything")
    change, change_steps = noop_run_seconds(settings, "rebuild_after_list_change")
    every_mart = job_marts("build_everything")
    suites = suites_seconds(settings, every_mart)
    rebuilt = job_marts("rebuild_after_list_change")
    change_suites = suites_seconds(settings, rebuilt)
    print(
        f"Dagster alone, no-op assets: build_everything {build:.1f} s ({build_steps} steps, "
        f"{build / build_steps * 1000:.0f} ms a step); rebuild_after_list_change {change:.1f} s "
        f"({change_steps} steps)"
    )
    print(
        f"Great Expectations alone: the {len(every_mart)} marts' suites {suites:.1f} s; the "
        f"{len(rebuilt)} a list change rebuilds {change_suites:.1f} s"
    )
    print(
        f"floor of the demo build: {definitions:.1f} + {build:.1f} + {suites:.1f} = "
        f"{definitions + build + suites:.1f} s (target 12 s); of a list change's run time: "
        f"{change:.1f} + {change_suites:.1f} = {change + change_suites:.1f} s (target 8 s)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="chokepoint-floor-") as tmp:
        root = Path(tmp) / "demo"
        os.environ.update({"CHOKEPOINT_DATA_DIR": str(root), "DAGSTER_HOME": str(root / "dh")})
        subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "demo"],
            cwd=REPO,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        from orchestration.settings import Settings

        report(Settings.from_env())


if __name__ == "__main__":
    main()
