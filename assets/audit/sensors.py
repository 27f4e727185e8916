"""Sensors that make failures seen: failed runs, failed checks and the warehouse's own alerts.

Nobody watches the UI at night. A run that fails, a check that fails (ERROR or WARN: a rejected or
pending snapshot, a refused file, a volume out of bounds) and an alert a step wrote to
`audit.alerts` (a held snapshot, a held or refused delivery) are each sent through the `Notifier`
once. Cursors make "once" hold across ticks: the check sensor remembers which (check, run) pairs
it sent among the latest evaluations of each check, and the forwarder remembers the last
`raised_at` it sent (and which alerts at that instant).

On a first tick (empty cursor) the check sensor sends only checks whose latest evaluation failed,
not their history; the forwarder sends every alert the published warehouse holds, since each one
names something a person still has to look at and the table is raised once per cause.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
)

from assets.audit.notify import Notifier, make_alert
from assets.common.ticks import sensor_interval
from assets.common.warehouse import Warehouse, table_exists

# How many of each check's latest evaluations a tick looks at (and its cursor remembers).
CHECK_WINDOW = 25

_COMPLETED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


def first_error_line(error: Any) -> str:
    """The first line of the innermost cause of a step's error (the user's exception)."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    if error is None:
        return "no error recorded"
    lines = str(error.message).strip().splitlines()
    return lines[0] if lines else str(error.cls_name)


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    minimum_interval_seconds=sensor_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, notifier: Notifier) -> None:
    """Send an alert for each failed run: job, run id and each failed step's first error line."""
    run = context.dagster_run
    steps = [
        f"{event.step_key}: {first_error_line(event.step_failure_data.error)}"
        for event in context.get_step_failure_events()
    ]
    message = "; ".join(steps) or (context.failure_event.message or "run failed")
    tags = run.tags
    if "dagster/partition" in tags:
        message += f" [partition {tags['dagster/partition']}]"
    if "dagster/retry_number" in tags:  # an automatic run retry (instance `run_retries`)
        message += f" [retry {tags['dagster/retry_number']}]"
    notifier.send(
        make_alert("ERROR", "run_failure", f"job {run.job_name}", message, run.run_id),
        log=context.log,
    )


def _check_alert(records: list[AssetCheckExecutionRecord]) -> dict[str, Any]:
    """One alert for the failed evaluations of one check in one run (several partitions)."""
    first = records[0]
    evaluation = first.event.dagster_event.asset_check_evaluation_data  # type: ignore[union-attr]
    descriptions = sorted({e.description for e in _evaluations(records) if e.description})
    partitions = sorted({r.partition for r in records if r.partition})
    message = "; ".join(descriptions) or "check failed"
    if partitions:
        message += f" (partitions {', '.join(partitions)})"
    return make_alert(
        evaluation.severity.value,
        "asset_check",
        first.key.to_user_string(),
        message,
        first.run_id,
        datetime.fromtimestamp(first.event.timestamp).astimezone(),  # type: ignore[union-attr]
    )


def _evaluations(records: list[AssetCheckExecutionRecord]) -> list[Any]:
    return [r.event.dagster_event.asset_check_evaluation_data for r in records]  # type: ignore[union-attr]


@dg.sensor(
    name="alert_on_failed_checks",
    minimum_interval_seconds=sensor_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def alert_on_failed_checks(
    context: dg.SensorEvaluationContext, notifier: Notifier
) -> dg.SensorResult:
    """Send an alert once per (check, run) whose evaluation failed, at ERROR or WARN severity."""
    if context.repository_def is None:
        return dg.SensorResult(skip_reason="no code location to read asset checks from")
    first_tick = context.cursor is None
    seen: dict[str, list[str]] = json.loads(context.cursor) if context.cursor else {}
    storage = context.instance.event_log_storage
    cursor: dict[str, list[str]] = {}
    sent = 0
    for check_key in sorted(
        context.repository_def.asset_graph.asset_check_keys, key=lambda k: k.to_user_string()
    ):
        name = check_key.to_user_string()
        history = storage.get_asset_check_execution_history(
            check_key, limit=CHECK_WINDOW, status=_COMPLETED
        )
        failed = [
            r
            for r in history
            if r.status == AssetCheckExecutionRecordStatus.FAILED and r.event is not None
        ]
        if first_tick:  # the state now, not the history: only a latest evaluation that failed
            latest_run = history[0].run_id if history else None
            failed_now = [r for r in failed if r.run_id == latest_run]
        else:
            failed_now = [r for r in failed if r.run_id not in set(seen.get(name, []))]
        by_run: dict[str, list[AssetCheckExecutionRecord]] = defaultdict(list)
        for record in failed_now:
            by_run[record.run_id].append(record)
        for records in by_run.values():
            notifier.send(_check_alert(records), log=context.log)
            sent += 1
        runs = sorted({r.run_id for r in failed})
        if runs:
            cursor[name] = runs
    new_cursor = json.dumps(cursor, sort_keys=True)
    if not sent:
        return dg.SensorResult(skip_reason="no new failed check", cursor=new_cursor)
    context.log.info(f"sent {sent} alert(s) for failed checks")
    return dg.SensorResult(cursor=new_cursor)


def _digest(source: str, subject: str, message: str) -> str:
    return hashlib.sha256("\x1f".join((source, subject, message)).encode()).hexdigest()[:16]


def published_alerts(published: Path, since: datetime | None) -> list[dict[str, Any]]:
    """Rows of the published `audit.alerts` raised at or after `since`, oldest first.

    Each row carries the run that published it (the first publication at or after it), if known.
    """
    if not published.is_file():
        return []
    con = duckdb.connect(str(published), read_only=True)
    try:
        if not table_exists(con, "audit", "alerts"):
            return []
        run = (
            "(select p.run_id from audit.publications p where p.published_at >= a.raised_at "
            "order by p.published_at limit 1)"
            if table_exists(con, "audit", "publications")
            else "null"
        )
        rows = con.execute(
            "select a.raised_at, a.severity, a.source, a.subject, a.message, "  # noqa: S608
            f"{run} as run_id from audit.alerts a "
            "where $since is null or a.raised_at >= $since "
            "order by a.raised_at, a.source, a.subject, a.message",
            {"since": since},
        ).fetchall()
    finally:
        con.close()
    names = ("raised_at", "severity", "source", "subject", "message", "run_id")
    return [dict(zip(names, row, strict=True)) for row in rows]


@dg.sensor(
    name="forward_published_alerts",
    minimum_interval_seconds=sensor_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def forward_published_alerts(
    context: dg.SensorEvaluationContext, notifier: Notifier, warehouse: Warehouse
) -> dg.SensorResult:
    """Send each new row of the published warehouse's `audit.alerts` (held or refused inputs)."""
    state: dict[str, Any] = json.loads(context.cursor) if context.cursor else {}
    since = datetime.fromisoformat(state["raised_at"]) if state.get("raised_at") else None
    already = set(state.get("sent", []))
    try:
        rows = published_alerts(Path(warehouse.published_path), since)
    except duckdb.Error as error:
        return dg.SensorResult(skip_reason=f"published warehouse unreadable: {error}")
    sent = 0
    for row in rows:
        digest = _digest(row["source"], row["subject"], row["message"])
        if row["raised_at"] == since and digest in already:
            continue
        notifier.send(
            make_alert(
                row["severity"],
                row["source"],
                row["subject"],
                row["message"],
                row["run_id"],
                row["raised_at"],
            ),
            log=context.log,
        )
        sent += 1
        if row["raised_at"] != since:
            since, already = row["raised_at"], set()
        already.add(digest)
    cursor = json.dumps(
        {"raised_at": since.isoformat() if since else None, "sent": sorted(already)}
    )
    if not sent:
        return dg.SensorResult(skip_reason="no new alert in the published warehouse", cursor=cursor)
    return dg.SensorResult(cursor=cursor)
