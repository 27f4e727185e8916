"""`chokepoint status`: what is published, what is in force, what waits for a person.

Read from the published warehouse (read-only: a running build is neither blocked nor seen half
done), the run lock (who is building now) and the Dagster instance (the last failed run and its
failed steps and checks). Nothing is written.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import duckdb

from assets.common.run_lock import current_holder
from assets.common.warehouse import history, table_exists
from orchestration.commands import add_command
from orchestration.commands.published import current_settings, published
from orchestration.settings import Settings


def add_to(commands: Any) -> None:
    parser = add_command(
        commands,
        "status",
        "last publication, last failed run and why, list versions in force, pending approvals, "
        "months loaded, latest alerts",
    )
    parser.set_defaults(run=run)


def run(_: argparse.Namespace) -> int:
    settings = current_settings()
    lines = [*building_now(settings)]
    with published(settings) as con:
        lines += warehouse_status(con)
    kept = history(settings.warehouse_path)
    lines.append(f"kept for rollback: {len(kept)} earlier publication(s)")
    lines += last_failure(settings)
    print("\n".join(lines))
    return 0


def building_now(settings: Settings) -> list[str]:
    """A line naming the run that holds the warehouse lock, when one does."""
    holder = current_holder(settings.build_path.with_name(settings.build_path.name + ".lock"))
    return [f"building now: {holder.describe()}"] if holder else []


def _rows(con: duckdb.DuckDBPyConnection, layer: str, table: str, query: str) -> list[Any]:
    """The rows of a query on `layer.table`, or none when an older warehouse lacks the table."""
    if not table_exists(con, layer, table):
        return []
    return con.execute(query).fetchall()


def warehouse_status(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Lines about the published warehouse's contents."""
    lines = []
    last = _rows(
        con,
        "audit",
        "publications",
        "select run_id, published_at, git_commit from audit.publications "
        "order by published_at desc limit 1",
    )
    if last:
        run_id, at, commit = last[0]
        lines.append(f"last publication: run {run_id} at {at:%Y-%m-%d %H:%M:%S %Z} (code {commit})")
    else:
        lines.append("last publication: none recorded")

    versions = _rows(
        con,
        "core",
        "sanctions_snapshots",
        "select list_version, entries from core.sanctions_snapshots "
        "qualify seq = max(seq) over (partition by list_id) order by list_id",
    )
    lines.append("list versions in force:")
    lines += [f"  {version} ({entries} entries)" for version, entries in versions] or ["  none"]

    from assets.sanctions.approvals import pending_summary

    held = pending_summary(con)
    deliveries = _rows(
        con,
        "audit",
        "held_deliveries",
        "select dataset, file, sha256, reason from audit.held_deliveries "
        "where run_id = (select run_id from audit.publications "
        "order by published_at desc limit 1) order by file",
    )
    lines.append("pending approvals:")
    lines += [
        f"  snapshot {item['snapshot']} held: {item['entries_removed']} delisting(s) "
        f"(sha256 {item['sha256']}) - {item['reason']}"
        for item in held
    ]
    lines += [
        f"  delivery {file} ({dataset}) held: {reason} (sha256 {sha})"
        for dataset, file, sha, reason in deliveries
    ]
    if not held and not deliveries:
        lines.append("  none")

    months = [
        row[0]
        for row in _rows(
            con,
            "core",
            "shipments",
            "select distinct strftime(declaration_month, '%Y-%m') from core.shipments "
            "where declaration_month is not null order by 1",
        )
    ]
    lines.append(f"months loaded: {describe_months(months)}")

    alerts = _rows(
        con,
        "audit",
        "alerts",
        "select raised_at, severity, source, subject, message from audit.alerts "
        "order by raised_at desc limit 5",
    )
    lines.append("latest alerts:")
    lines += [
        f"  {at:%Y-%m-%d %H:%M} {severity} {source} {subject}: {message}"
        for at, severity, source, subject, message in alerts
    ] or ["  none"]
    return lines


def describe_months(months: list[str]) -> str:
    """`2024-01..2024-06 (6 months)`, naming the gaps when the months are not consecutive."""
    if not months:
        return "none"

    def index(month: str) -> int:
        year, number = month.split("-")
        return int(year) * 12 + int(number) - 1

    first, last = index(months[0]), index(months[-1])
    present = {index(m) for m in months}
    gaps = [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(first, last + 1) if i not in present]
    text = f"{months[0]}..{months[-1]} ({len(months)} months)"
    return text + (f"; missing {', '.join(gaps)}" if gaps else "")


def last_failure(settings: Settings) -> list[str]:
    """The last failed run in the Dagster instance, its failed steps and failed checks."""
    home = settings.dagster_home
    if not (home / "dagster.yaml").is_file():
        return [f"last failed run: no Dagster instance at {home}"]
    import dagster as dg
    from dagster._core.events import DagsterEventType

    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            records = instance.get_run_records(
                filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]), limit=1
            )
            if not records:
                return ["last failed run: none"]
            run = records[0].dagster_run
            ended = records[0].end_time
            when = f" (ended {_timestamp(ended)})" if ended else ""
            lines = [f"last failed run: {run.run_id} of {run.job_name}{when}"]
            events = instance.all_logs(
                run.run_id,
                of_type={
                    DagsterEventType.STEP_FAILURE,
                    DagsterEventType.RUN_FAILURE,
                    DagsterEventType.ASSET_CHECK_EVALUATION,
                },
            )
            lines += [f"  {line}" for line in failure_lines(events)]
            return lines
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous


def _timestamp(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def failure_lines(events: Any) -> list[str]:
    """One line per failed step (first line of its error), failed check, or the run's reason."""
    from orchestration.cli import root_error

    lines = []
    for entry in events:
        event = entry.dagster_event
        if event is None:
            continue
        data = event.event_specific_data
        if event.event_type_value == "STEP_FAILURE":
            error = root_error(data.error)
            message = error.message.strip().splitlines()[0] if error and error.message else ""
            lines.append(f"step {event.step_key} failed: {message or 'no message'}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not data.passed:
            key = data.asset_check_key
            lines.append(
                f"check failed: {key.asset_key.to_user_string()} {key.name}: "
                f"{data.description or ''}".rstrip(": ")
            )
        elif event.event_type_value == "RUN_FAILURE" and not lines:
            lines.append(f"the run failed: {(event.message or 'no reason recorded').strip()}")
    return lines or ["no failed step recorded"]
