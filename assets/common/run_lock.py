"""One writer per warehouse: a run holds an exclusive lock on a file beside the build database.

DuckDB refuses a second writer at once, so two runs that both open the build file both fail.
Instead each run takes `flock` on `<build>.lock` for its whole duration; a second run waits and
then goes ahead, or declines naming the run that holds the lock. The lock file carries the
holder's run id, pid, host and start time for that message. `flock` belongs to the open file:
the operating system releases it when the holder exits, however it exits (SIGKILL included),
so a dead run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Holder:
    """Who holds the lock: written into the lock file by the run that took it."""

    run_id: str
    pid: int
    host: str
    started_at: str

    def describe(self) -> str:
        """The holder in words, for a log line or an error."""
        return f"run {self.run_id} (pid {self.pid} on {self.host}) since {self.started_at}"


class WarehouseBusy(RuntimeError):
    """Another run held the warehouse lock for longer than this run would wait."""


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file, or None while none is recorded."""
    try:
        return Holder(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def current_holder(path: Path) -> Holder | None:
    """Who holds the lock at `path` now, or None when nobody does (a dead holder holds nothing).

    Probes the lock itself rather than trusting the file's text: a killed run leaves its record
    behind, but the operating system has released its lock.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if _try_lock(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        return read_holder(path) or Holder("(not yet recorded)", 0, "?", "?")
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _record(fd: int, holder: Holder) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
    os.fsync(fd)


@contextmanager
def run_lock(
    path: Path,
    run_id: str,
    *,
    wait_seconds: float,
    poll_seconds: float = 1.0,
    on_wait: Callable[[Holder | None], None] | None = None,
) -> Iterator[Holder]:
    """Hold the exclusive lock at `path` while the block runs; wait for it at most `wait_seconds`.

    `on_wait` is called once with the current holder when this run has to wait.
    Raises WarehouseBusy, naming the holder, when the wait runs out.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        waited = False
        while not _try_lock(fd):
            if not waited and on_wait is not None:
                on_wait(read_holder(path))
            waited = True
            if time.monotonic() >= deadline:
                holder = read_holder(path)
                who = holder.describe() if holder else "another run (not yet recorded)"
                raise WarehouseBusy(
                    f"the warehouse is being built by {who}; waited {wait_seconds:g} s for it "
                    f"to finish and declined. Lock file: {path}"
                )
            time.sleep(min(poll_seconds, max(deadline - time.monotonic(), 0.0)))
        holder = Holder(
            run_id=run_id,
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        _record(fd, holder)
        try:
            yield holder
        finally:
            # Emptied before release, so a waiter never names a run that has finished.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
