"""The run's side of the suites' worker (`worker`): the resource that starts it and hands it tasks.

A run whose plan has `audit.mart_quality` takes a worker process when its resources are set up
(one the command line started, or a new one); the worker imports Great Expectations while the
run's first steps load and stage the data (DuckDB leaves the second core idle most of that
time). Each mart's step then hands the worker its mart's rows
(`validate_early`) as soon as it has written them, and the worker validates them while the run
goes on to its next steps: the suites' own overhead per expectation (about 2-3 s a run) leaves
the run's critical path. The quality step hands over the marts not handed over early (and all
of them if its plan disagrees with what was), adds up the reconciliations' totals and
checkpoints the build database meanwhile, then gathers the results. The worker then writes the
Data Docs while the run goes on to publish, and publication waits for them (`wait_for_docs`).
Outside a run (a unit test, a sensor) the suites run in the caller's process.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import PrivateAttr

from assets.common.warehouse import MEMORY_LIMIT, run_executes
from assets.marts import worker

if TYPE_CHECKING:
    from assets.marts.suites import Scope, SuiteInputs

QUALITY_STEP = "audit__mart_quality"


def current(run_id: str) -> QualityWorker | None:
    """The worker of the run `run_id` if it runs in this process and has one (a mart step
    gives it the mart as soon as it is written); None otherwise (a step in a process of its
    own, under Dagster's multiprocess executor, leaves its mart to the quality step)."""
    found = _running.get(run_id)
    return found if found is not None and found.started else None


# The workers of the runs executing in this process, by run id.
_running: dict[str, QualityWorker] = {}


class QualityWorker(dg.ConfigurableResource):  # type: ignore[misc]
    """A process for the Great Expectations suites, started when a run that validates starts."""

    enabled: bool = True
    _pool: ProcessPoolExecutor | None = PrivateAttr(default=None)
    _warm: Future[None] | None = PrivateAttr(default=None)
    _docs: Future[None] | None = PrivateAttr(default=None)
    _docs_arguments: tuple[Any, ...] | None = PrivateAttr(default=None)
    # marts given to the worker by their steps: their inputs and pending results
    _early: dict[str, tuple[SuiteInputs, Future[list[dict[str, Any]]]]] = PrivateAttr(
        default_factory=dict
    )
    # a mart given twice (its step retried), or a worker that died taking one: the quality
    # step validates every mart in a new validation
    _early_void: bool = PrivateAttr(default=False)
    # seconds the quality step waited for the worker after its own work
    _waited: float = PrivateAttr(default=0.0)
    # the worker's largest resident memory when it returned the results, in bytes
    _worker_peak: int | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[QualityWorker]:
        """Start the worker (importing the library) if the run executes the quality step."""

        run = context.run
        if not self.enabled or run is None or not run_executes(run, context.instance, QUALITY_STEP):
            yield self
            return
        pool, warm = worker.take_prestarted()
        self._pool, self._warm = pool, warm
        self._early, self._early_void = {}, False
        _running[run.run_id] = self
        try:
            yield self
        finally:
            _running.pop(run.run_id, None)
            folders = {
                rows.folder() for inputs, _ in self._early.values() for rows in inputs.rows.values()
            }
            docs_pending = self._docs is not None
            self._pool = self._warm = self._docs = None
            self._early, self._early_void = {}, False
            if docs_pending:  # the Data Docs being written are finished first
                worker.stop_pool(pool)
            else:  # nothing left is needed (a run that failed before its quality step)
                worker.end_pool(pool)
            # the rows handed over early and never gathered (a run that failed before the
            # quality step); those gathered went with the quality step's folder
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
                with contextlib.suppress(OSError):  # the run's folder, once empty
                    folder.parent.rmdir()

    @property
    def waited(self) -> float:
        """Seconds the last `run_suites` waited for the worker after its `meanwhile` work."""
        return self._waited

    @property
    def worker_peak(self) -> int | None:
        """The worker's largest resident memory (bytes) when it returned the last results."""
        return self._worker_peak

    @property
    def started(self) -> bool:
        """Whether this run has a worker."""
        return self._pool is not None

    def validate_early(self, inputs: SuiteInputs) -> None:
        """Give the worker one mart's rows (`inputs`), written by its step: the worker
        validates it while the run's next steps go on."""
        if self._pool is None:
            return
        (mart,) = inputs.rows
        if mart in self._early:
            self._early_void = True
        try:
            self._early[mart] = (inputs, self._pool.submit(worker.validate_marts, inputs))
        except BrokenProcessPool:
            self._early_void = True

    def void_early(self) -> None:
        """Have the quality step validate every mart itself (a hand-over went wrong)."""
        self._early_void = True

    def validated_early(
        self, scopes: dict[str, Scope], marts: tuple[str, ...], hs6_codes: list[str]
    ) -> dict[str, SuiteInputs]:
        """The marts given early whose rows are those the quality step would read now: every
        one in `marts`, in the scope the step's plan gives it, with the same reference codes.
        Empty (all are validated again, afresh) unless every mart given early is such."""
        early = {mart: inputs for mart, (inputs, _) in self._early.items()}
        if self._early_void or any(
            mart not in marts
            or inputs.scopes.get(mart) != scopes.get(mart)
            or inputs.hs6_codes != hs6_codes
            for mart, inputs in early.items()
        ):
            return {}
        return early

    def run_suites(
        self,
        inputs: SuiteInputs,
        docs: Path,
        totals: Callable[[], list[dict[str, Any]]] | None = None,
        meanwhile: Callable[[], None] | None = None,
        early: dict[str, SuiteInputs] | None = None,
    ) -> list[dict[str, Any]]:
        """The suites' results over `inputs` and the marts validated `early`
        (`validated_early`), computed in the worker while the caller adds up the
        reconciliations' `totals` (given to the worker after the marts) and runs `meanwhile`
        (the mart step checkpoints the warehouse). `inputs.marts` names every mart validated,
        in the order of the results.

        The worker writes the Data Docs after returning them (see `wait_for_docs`). A worker
        that died (killed, out of memory, a failed import) is not fatal: the suites then run
        in the caller's process, Data Docs included.
        """
        if self._pool is None:
            raise RuntimeError("no Great Expectations worker was started for this run")
        early = early or {}
        # what the worker validated early and is not used makes for a new validation, and
        # what of it the worker has not begun yet is not validated at all
        fresh = bool(self._early) and not early
        if fresh:
            for _, unused in self._early.values():
                unused.cancel()
        pending = {mart: self._early[mart][1] for mart in early}
        whole = _combined(inputs, early.values())
        try:
            pending[""] = self._pool.submit(worker.validate_marts, inputs, fresh)
        except BrokenProcessPool:
            pending = {}
        if totals is not None:
            whole = replace(whole, totals=totals())
        if meanwhile is not None:
            meanwhile()
        started = time.perf_counter()
        try:
            if "" not in pending:
                raise BrokenProcessPool("the worker died before the suites")
            reconciled = self._pool.submit(worker.validate_totals, whole.totals, str(docs))
            found = {key: future.result() for key, future in pending.items()}
            results = _in_order(found, whole.marts) + reconciled.result()
            # its largest memory so far: it held the marts' rows (reported with the run's own)
            self._worker_peak = self._pool.submit(worker.peak_rss_bytes).result()
            self._docs = self._pool.submit(worker.build_docs)
            # not the rows (their files are removed once validated): a worker that dies writing
            # the Data Docs leaves them to be read again from the published file
            self._docs_arguments = (whole.without_rows(), str(docs))
        except BrokenProcessPool:
            results = worker.validate_all(whole, str(docs))
        self._waited = time.perf_counter() - started
        self._early, self._early_void = {}, False
        return results

    def wait_for_docs(self, database: str | None = None, memory_limit: str = MEMORY_LIMIT) -> None:
        """Wait until the worker has written the Data Docs of the run's validation (if any).

        If the worker died meanwhile, the suites run again in this process to write them, over
        the marts' rows read again from `database` (closed: the file the run published).
        """
        docs, self._docs = self._docs, None
        arguments, self._docs_arguments = self._docs_arguments, None
        if docs is None:
            return
        try:
            docs.result()
        except BrokenProcessPool:
            if arguments is None or database is None:
                raise
            import tempfile

            import duckdb

            inputs, docs_folder = arguments
            con = duckdb.connect(database, read_only=True, config={"memory_limit": memory_limit})
            try:
                with tempfile.TemporaryDirectory() as rows:
                    worker.validate_all(inputs.with_rows_from(con, Path(rows)), docs_folder)
            finally:
                con.close()


def _combined(inputs: SuiteInputs, early: Iterable[SuiteInputs]) -> SuiteInputs:
    """`inputs` with the rows and scopes of the marts validated early (in `inputs.marts`'s
    order)."""
    rows, scopes = dict(inputs.rows), dict(inputs.scopes)
    for part in early:
        rows.update(part.rows)
        scopes.update(part.scopes)
    ordered = {mart: rows[mart] for mart in inputs.marts if mart in rows}
    return replace(inputs, rows=ordered, scopes=scopes)


def _in_order(
    found: dict[str, list[dict[str, Any]]], marts: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The marts' results (some by mart, the rest under "") in the order of `marts`."""
    by_mart: dict[str, list[dict[str, Any]]] = {}
    for results in found.values():
        for result in results:
            by_mart.setdefault(result["dataset"], []).append(result)
    return [result for mart in marts for result in by_mart.get(mart, [])]
