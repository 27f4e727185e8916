"""Which runs write the warehouse, and whether one is queued or running.

Every job of this project writes the one DuckDB warehouse, so every job carries `WRITER_TAGS`
and the Dagster instance configuration (the local `dagster.yaml` and `deploy/dagster.yaml`)
launches one run at a time (and at most one with that tag, should a read-only job be added);
the sensors skip a tick while a run is queued or in progress (they try again on the next tick
with their cursor unchanged). The run lock (`run_lock.py`) is the last line of defence for runs
started outside the queue.
"""

from pathlib import Path

import dagster as dg

from assets.common.run_lock import current_holder

WRITER_TAG = "chokepoint/writes"
WRITER_TAGS = {WRITER_TAG: "warehouse"}
# A retried run re-runs every step: it starts from the published copy unless its parent wrote
# the build file last, so re-running only the failed steps could publish without what the
# parent's earlier steps built.
JOB_TAGS = {**WRITER_TAGS, "dagster/retry_strategy": "ALL_STEPS"}

_EXECUTING = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)
_UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def active_writer(instance: dg.DagsterInstance, lock: Path) -> str | None:
    """The id of a queued or running warehouse writer, or None when there is none.

    Every run of this code location writes the warehouse (a UI backfill of a few assets too,
    though it carries no job tags), so any unfinished run counts. A run that Dagster still
    records as started but that no longer holds the run lock has died (the default run launcher
    cannot tell): it does not count once the lock is free.
    """
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=_UNFINISHED)):
        run = record.dagster_run
        if run.status in _EXECUTING and current_holder(lock) is None:
            continue
        return run.run_id
    return None
