"""The suites' worker: a process of its own for Great Expectations, started before the run needs it.

Importing Great Expectations takes 2-4 s here (without `scipy.stats` and `altair`, which
`gx_import` leaves until an expectation uses them; 3-6 s with them), so a run whose plan has
`audit.mart_quality` has a spawned worker import it while the run's first steps load and stage
the data; the command line starts it even before it prepares the run (`prestart`). What the
worker runs is here: its start, its tasks (the marts' suites, the reconciliations, the Data
Docs) and its end. This module and `suites` import no Dagster, so neither does the worker (1 s
and 70 MB less). The run's side, the resource that hands the worker its tasks, is
`quality_worker`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assets.marts.suites import Session, SuiteInputs


def _exit_with(parent: int) -> None:
    """In the worker: exit once the run's process that started it is gone. A run killed
    outright (SIGKILL, the out-of-memory killer) cannot shut its pool down, and the worker,
    waiting on a queue whose other end it holds too, would otherwise wait forever."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _start_worker(parent: int) -> None:
    """In the worker, first: a thread that ends it with its run."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def start_pool() -> ProcessPoolExecutor:
    """A pool of one spawned worker, at the run's own priority, that ends with this process.

    Until stop 29 it ran at nice 10, so that its import would not slow the steps it overlaps.
    On a machine other work keeps busy, that starved it: with a benchmark beside it, a demo
    build's quality step waited 63 s for it. At the run's priority, three alternating pairs
    each in a busy hour: the list change 8.7-8.9 s -> 7.7-8.6 s, the demo build 18.8-22.4 s
    -> 18.7-21.1 s (`benchmarks/RESULTS.md`, stop 29).
    """
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


# A worker started before its run: the command line starts one while it creates the run's
# instance and the run (the worker imports Great Expectations meanwhile), and the run's
# resource takes it instead of starting its own.
_prestarted: tuple[ProcessPoolExecutor, Future[None]] | None = None


def prestart() -> None:
    """Start a worker for the next run this process executes (`QualityWorker` takes it)."""
    global _prestarted
    if _prestarted is None:
        pool = start_pool()
        _prestarted = (pool, pool.submit(_import_great_expectations))


def drop_prestarted() -> None:
    """End a worker started by `prestart` that no run took (a run without the quality step, or
    one that failed before it) at once: its one task is importing Great Expectations, which
    nothing needs now (waiting for it held the command 2-3 s after such a run)."""
    global _prestarted
    if _prestarted is not None:
        pool, _ = _prestarted
        _prestarted = None
        end_pool(pool)


def end_pool(pool: ProcessPoolExecutor) -> None:
    """End a pool's worker without waiting for its tasks (their futures are broken or
    cancelled)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    # before 3.14 the pool keeps its processes by pid (the same attribute 3.14 ends)
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.terminate()
    with contextlib.suppress(BrokenProcessPool, RuntimeError):
        pool.shutdown(wait=True, cancel_futures=True)


def take_prestarted() -> tuple[ProcessPoolExecutor, Future[None]]:
    """The worker `prestart` started, or a new one; with its warm-up."""
    global _prestarted
    prestart()  # (none was: one now)
    taken, _prestarted = _prestarted, None
    assert taken is not None
    return taken


def _import_great_expectations() -> None:
    """In the worker, first: everything the suites import. The project's suite module too:
    it imports polars and DuckDB (about 0.3 s), which the run would otherwise wait for when it
    hands the worker the suites' inputs (unpickling them imports it)."""
    import pandas  # noqa: F401

    from assets.marts.gx_import import great_expectations

    great_expectations()

    import assets.marts.suites  # noqa: F401


def validate_all(inputs: SuiteInputs, docs: str, build_docs: bool = True) -> list[dict[str, Any]]:
    """The suites over the inputs the run read from its warehouse (in the run's process when
    the worker died)."""
    from assets.marts.suites import validate

    return validate(inputs, Path(docs), build_docs=build_docs)


# In the worker: the run's validation, begun by its first marts and ended by `validate_totals`.
_session: Session | None = None


def _begun(fresh: bool = False) -> Session:
    """In the worker: the run's validation (a new one if `fresh` or none was begun)."""
    global _session
    from assets.marts.suites import Session

    if fresh or _session is None:
        _session = Session()
    return _session


def validate_marts(inputs: SuiteInputs, fresh: bool = False) -> list[dict[str, Any]]:
    """In the worker: the results of the suites of the marts in `inputs`, added to the run's
    validation (to a new one if `fresh`: one that marts validated early must not be part of)."""
    return _begun(fresh).marts(inputs)


def validate_totals(totals: list[dict[str, Any]], docs: str) -> list[dict[str, Any]]:
    """In the worker: the reconciliations' results, which end the run's validation; its Data
    Docs (in `docs`) are left to `build_docs`."""
    global _session
    session = _begun()
    _session = None
    results = session.reconciliations(totals)
    session.end(Path(docs), build_docs=False)
    return results


def _exit_now() -> None:
    """In the worker, its last task: exit without the interpreter's teardown, which takes a
    second once Great Expectations and pandas are imported (the run waited for it)."""
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


def high_water_mark(pid: int | str = "self") -> int | None:
    """A process's largest resident memory so far, in bytes: Linux's high-water mark of its own
    memory (VmHWM); None where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_bytes() -> int | None:
    """The largest resident memory this process has had (None where the OS does not say).

    Its own high-water mark (`high_water_mark`). Not `ru_maxrss` where that can be read: Linux
    carries `ru_maxrss` over an exec from the process that forked it, so a run started by a
    large process (a benchmark that has just read 10 GB of CSV) reported that process's size.
    """
    found = high_water_mark()
    if found is not None:
        return found
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # bytes there, kB here


def build_docs() -> None:
    """In the worker: the Data Docs of the validation `validate_all` just ran."""
    from assets.marts.suites import build_pending_docs

    build_pending_docs()
