"""The quality step: Great Expectations over the marts (`suites`), run before publishing.

A monthly run validates only its months of the month-partitioned marts, and no run validates
again a mart it did not rebuild, when what is not validated passed an earlier validation under
the same suite (`validation_scope`); the reconciliations run on every run. The suites run in the
run's worker process (`quality_worker`), each mart as soon as its step has written it where it
is small enough (`validate_early`), the rest at the quality step.
"""

import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from assets.common.reports import Reports
from assets.common.sql import table_ref
from assets.common.warehouse import Warehouse, log_step
from assets.marts import validation_scope
from assets.marts.catalog import MARTS
from assets.marts.quality_worker import QualityWorker, current
from assets.marts.suites import (
    RECONCILIATIONS,
    SUITE_ROWS_PREFIX,
    describe,
    hs6_codes,
    month_filter,
    read_inputs,
    reconciliation_totals,
    validate,
)
from assets.marts.worker import peak_rss_bytes


def _gb(size: int | None) -> float:
    """Bytes as GB to the hundredth (0.0 when unknown)."""
    return round((size or 0) / 1e9, 2)


def rows_folder(build_path: str, run_id: str) -> Path:
    """The folder (beside the build file: same disk) of the rows a run hands to the suites."""
    return Path(build_path).parent / f"{SUITE_ROWS_PREFIX}{run_id}"


# A mart with more rows than this in its scope is not given to the worker early: the worker
# holds the rows it validates as pandas objects (`marts.flagged_shipments` of a 10M-declaration
# build, 475k rows: about 0.5 GB), and while the run's next steps go on, the peak memory is the
# run's and the worker's together. A month's rows, and every mart of the demo, are well under.
EARLY_MAX_ROWS = 250_000


def validate_early(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    build_path: str,
    mart: str,
    rewrote_all: bool,
) -> None:
    """Give the run's worker (if it runs in this process) a mart its step just wrote, in the
    scope the quality step will validate it in; the worker validates it while the run goes
    on. The quality step uses the results only if its own plan agrees (`validated_early`).
    The mart is written and checked, so a hand-over that fails (a full disk) only warns and
    leaves every mart to the quality step."""
    worker = current(context.run.run_id)
    if worker is None:
        return
    try:
        _hand_over(context, con, build_path, mart, rewrote_all, worker)
    except Exception as error:
        worker.void_early()
        context.log.warning(f"marts.{mart} not handed to the suites' worker early: {error}")


def _hand_over(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    build_path: str,
    mart: str,
    rewrote_all: bool,
    worker: QualityWorker,
) -> None:
    scope = validation_scope.scope_after_step(context, con, mart, rewrote_all)
    where, bounds = month_filter(mart, scope)
    rows = con.execute(f"select count(*) from {table_ref('marts', mart)} {where}", bounds)  # noqa: S608
    if rows.fetchall()[0][0] > EARLY_MAX_ROWS:
        return  # left to the quality step, when the run's own steps are done
    # a folder per hand-over: a mart given again (its step retried) does not overwrite the
    # rows a queued validation of the first is still to read
    run_folder = rows_folder(build_path, context.run.run_id)
    run_folder.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{mart}-", dir=run_folder))
    worker.validate_early(read_inputs(con, folder, (mart,), (), {mart: scope} if scope else {}))


@dg.asset(
    key=["audit", "mart_quality"],
    deps=[dg.AssetKey(["marts", mart]) for mart in MARTS],
    group_name="audit",
    kinds={"duckdb", "great_expectations"},
    check_specs=[
        dg.AssetCheckSpec(
            "expectations_met",
            asset=["audit", "mart_quality"],
            blocking=True,
            description="Every expectation on every mart holds; otherwise the marts are not "
            "published.",
        )
    ],
)
def mart_quality(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    reports: Reports,
    quality: QualityWorker,
) -> dg.MaterializeResult:
    """Great Expectations results for every mart, with Data Docs in the reports dir."""
    import polars as pl

    docs = Path(reports.path) / "data_docs"
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    # the rows handed to the suites, beside the build file (same disk), removed once validated;
    # a killed run's are removed by the next (the run lock makes this run the only writer)
    folder = rows_folder(warehouse.build_path, context.run.run_id)
    for stale in folder.parent.glob(f"{SUITE_ROWS_PREFIX}*"):
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with warehouse.connect() as con:
            plan = validation_scope.plan(context, con, MARTS)
            scopes = plan.scopes
            marts = tuple(mart for mart in MARTS if mart not in plan.unchanged)
            # the marts their steps gave the worker (`validate_early`), if they are what would
            # be read now; then the others' rows: the worker validates them while the run adds
            # up the totals
            early = (
                quality.validated_early(scopes, marts, hs6_codes(con)) if quality.started else {}
            )
            now = tuple(mart for mart in marts if mart not in early)
            inputs = replace(read_inputs(con, folder, now, (), scopes), marts=marts)
        seconds["read_s"] = time.perf_counter() - started

        def totals() -> list[dict[str, Any]]:
            started = time.perf_counter()
            with warehouse.connect() as con:
                found = reconciliation_totals(con, RECONCILIATIONS)
            seconds["totals_s"] = time.perf_counter() - started
            return found

        if quality.started:  # the run's worker has imported the library meanwhile

            def checkpoint() -> None:
                # the run's writes reach the file while the worker validates, not at publication
                started = time.perf_counter()
                with warehouse.connect() as con:
                    con.execute("checkpoint")
                seconds["checkpoint_s"] = time.perf_counter() - started

            # its Data Docs are written while the run goes on; publication waits for them
            results = quality.run_suites(
                inputs, docs, totals=totals, meanwhile=checkpoint, early=early
            )
        else:
            results = validate(replace(inputs, totals=totals()), docs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with warehouse.connect() as con:
        frame = pl.DataFrame(results)
        con.register("_results", frame.to_arrow())
        con.execute("create or replace table audit.mart_quality as select * from _results")
        con.unregister("_results")
        validation_scope.record(con, context.run.run_id, results, marts, scopes)
        log_step(con, context, rows_received=None, rows_written=frame.height)
    failed = [r for r in results if not r["success"]]
    return dg.MaterializeResult(
        metadata={
            "expectations": len(results),
            "failed": len(failed),
            # where the step's time went: reading the rows, the totals and the checkpoint the
            # run makes meanwhile, then waiting for the worker's results
            **{name: round(value, 2) for name, value in seconds.items()},
            "worker_wait_s": round(quality.waited, 2) if quality.started else 0.0,
            # the largest memory of the worker (it holds the marts' rows as pandas) and of the
            # run's own process so far, in GB: which of them a build's peak is
            "worker_peak_rss_gb": _gb(quality.worker_peak if quality.started else None),
            "run_peak_rss_gb": _gb(peak_rss_bytes()),
            # the marts whose steps gave them to the worker as soon as they were written
            "validated_early": ", ".join(early) or "none",
            # the marts validated over the run's months only (every other mart: every month)
            "validated_months": ", ".join(
                f"{mart} {describe(scope)}" for mart, scope in scopes.items()
            )
            or "all",
            # not rebuilt by this run, and validated in full by the runs that published them
            "not_validated_again": ", ".join(plan.unchanged) or "none",
            "data_docs": dg.MetadataValue.path(str(docs / "index.html")),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="expectations_met",
                passed=not failed,
                description="; ".join(
                    f"{r['dataset']} {r['expectation']}({r['target_column']}): "
                    f"{r['unexpected']} unexpected"
                    for r in sorted(
                        failed,
                        key=lambda r: (r["dataset"], r["expectation"], r["target_column"]),
                    )
                )
                or "all expectations met"
                + (
                    f" ({len(scopes)} month-partitioned marts over the run's months only, "
                    f"{len(plan.unchanged)} marts this run did not rebuild not again; what was "
                    "not validated now passed earlier validations: audit.mart_validations)"
                    if scopes or plan.unchanged
                    else ""
                ),
            )
        ],
    )
