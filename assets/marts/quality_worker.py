"""Great Expectations in a process of its own, started with the run so that its import is done.

Importing Great Expectations takes 3-6 s here, a tenth of a demo build. A run whose plan has
`audit.mart_quality` starts one spawned worker process when its resources are set up; the
worker imports the library while the run's first steps load and stage the data (DuckDB leaves
the second core idle most of that time). When the step comes, the run reads the marts' rows
(Arrow) and the reconciliations' totals and hands them to the worker; while the worker runs the
suites, the run checkpoints its build database (the month's writes reach the file then, not at
publication). Then the worker writes the Data Docs (a few seconds of rendering) while the run
goes on to publish, and publication waits for them (`wait_for_docs`). Outside a run (a unit
test, a sensor) the suites run in the caller's process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import PrivateAttr

if TYPE_CHECKING:
    from assets.marts.quality import SuiteInputs

QUALITY_STEP = "audit__mart_quality"


def _exit_with(parent: int) -> None:
    """In the worker: exit once the run's process that started it is gone. A run killed
    outright (SIGKILL, the out-of-memory killer) cannot shut its pool down, and the worker,
    waiting on a queue whose other end it holds too, would otherwise wait forever."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _start_worker(niceness: int, parent: int) -> None:
    """In the worker, first: a lower priority, and a thread that ends it with its run."""
    os.nice(niceness)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def start_pool() -> ProcessPoolExecutor:
    """A pool of one spawned worker, at a lower priority, that ends with this process.

    At a lower priority: its import must not slow the steps it overlaps (on 2 cores a 10M-row
    scan uses both); the run waits on it only at the quality step, idle then.
    """
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(10, os.getpid()),
    )


def _import_great_expectations() -> None:
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401


def _validate(inputs: SuiteInputs, docs: str, build_docs: bool = True) -> list[dict[str, Any]]:
    """In the worker: the suites over the inputs the run read from its warehouse."""
    from assets.marts.quality import validate

    return validate(inputs, Path(docs), build_docs=build_docs)


def _exit_now() -> None:
    """In the worker, its last task: exit without the interpreter's teardown, which takes a
    second once Great Expectations and pandas are imported (the run waited for it)."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop the worker once the tasks already submitted (Data Docs being written) are done."""
    # after them (one worker takes tasks in order), it exits at once; the pool then sees the
    # process gone and marks this last task's future broken, which is what it is for. A worker
    # already dead (or a pool already shut) has nothing left to stop.
    with contextlib.suppress(BrokenProcessPool, RuntimeError):
        pool.submit(_exit_now)
    pool.shutdown(wait=True, cancel_futures=False)


def _build_docs() -> None:
    """In the worker: the Data Docs of the validation `_validate` just ran."""
    from assets.marts.quality import build_pending_docs

    build_pending_docs()


class QualityWorker(dg.ConfigurableResource):  # type: ignore[misc]
    """A process for the Great Expectations suites, started when a run that validates starts."""

    enabled: bool = True
    _pool: ProcessPoolExecutor | None = PrivateAttr(default=None)
    _warm: Future[None] | None = PrivateAttr(default=None)
    _docs: Future[None] | None = PrivateAttr(default=None)
    _docs_arguments: tuple[Any, ...] | None = PrivateAttr(default=None)
    # seconds the quality step waited for the worker after its own work
    _waited: float = PrivateAttr(default=0.0)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[QualityWorker]:
        """Start the worker (importing the library) if the run executes the quality step."""
        from assets.common.warehouse import _executes

        run = context.run
        if not self.enabled or run is None or not _executes(run, context.instance, QUALITY_STEP):
            yield self
            return
        pool = start_pool()
        self._pool, self._warm = pool, pool.submit(_import_great_expectations)
        try:
            yield self
        finally:
            self._pool = self._warm = self._docs = None
            stop_pool(pool)  # after the Data Docs still being written, if any

    @property
    def waited(self) -> float:
        """Seconds the last `run_suites` waited for the worker after its `meanwhile` work."""
        return self._waited

    @property
    def started(self) -> bool:
        """Whether this run has a worker."""
        return self._pool is not None

    def run_suites(
        self,
        inputs: SuiteInputs,
        docs: Path,
        meanwhile: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """The suites' results over `inputs`, computed in the worker while the caller runs
        `meanwhile` (the mart step checkpoints the warehouse).

        The worker writes the Data Docs after returning them (see `wait_for_docs`). A worker
        that died (killed, out of memory, a failed import) is not fatal: the suites then run
        in the caller's process, Data Docs included.
        """
        if self._pool is None:
            raise RuntimeError("no Great Expectations worker was started for this run")
        arguments = (inputs, str(docs))
        try:
            pending = self._pool.submit(_validate, *arguments, False)
        except BrokenProcessPool:
            pending = None
        if meanwhile is not None:
            meanwhile()
        started = time.perf_counter()
        try:
            if pending is None:
                raise BrokenProcessPool("the worker died before the suites")
            results = pending.result()
            self._docs = self._pool.submit(_build_docs)
            # not the rows (their files are removed once validated): a worker that dies writing
            # the Data Docs leaves them to be read again from the published file
            self._docs_arguments = (inputs.without_rows(), str(docs))
        except BrokenProcessPool:
            results = _validate(*arguments)
        self._waited = time.perf_counter() - started
        return results

    def wait_for_docs(self, database: str | None = None, memory_limit: str = "3GB") -> None:
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
                    _validate(inputs.with_rows_from(con, Path(rows)), docs_folder)
            finally:
                con.close()
