"""Deliveries drive runs: one sensor per source family, and a schedule for a source due by date.

Each family's sensor lists the family's delivered files (the landing area, or the bundled
reference folder for the control lists), fingerprints them by sha256 and launches its job for
exactly what changed: a new or corrected month runs that month's partitions and everything
downstream; an unpartitioned file runs its assets and everything downstream (over every month
when that includes monthly assets, e.g. new exchange rates re-convert every month). Months are
registered as partitions from the delivered files, so no month exists without a file.

The cursor maps each file to (size, mtime, sha256) so that a tick hashes only files whose size or
mtime moved. An empty cursor (a first daemon start) starts from what the published warehouse
already loaded (`audit.file_loads`): files it holds do not launch anything. A change to the
delivery approvals file re-launches the files it newly releases. While a warehouse writer is
queued or running, a tick skips with its cursor unchanged and tries again on the next tick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from assets.audit.notify import Notifier, make_alert
from assets.common import deliveries
from assets.common.contracts import list_contracts, load_contract
from assets.common.landing import LandingArea, LandingEntry, inventory
from assets.common.partitions import contiguous_blocks, range_tags, register_months
from assets.common.paths import REFERENCE_DIR
from assets.common.raw import sha256_file
from assets.common.ticks import sensor_interval
from assets.common.warehouse import Warehouse, table_exists
from assets.common.writers import JOB_TAGS, active_writer
from assets.landing.families import FAMILIES, Family

FAMILY_TAG = "chokepoint/family"
FILES_TAG = "chokepoint/files"


@dataclass(frozen=True)
class Delivered:
    """One delivered file of a family."""

    dataset: str
    relative: str  # as `audit.file_loads` records it
    month: str | None
    path: Path

    @property
    def key(self) -> str:
        return f"{self.dataset}:{self.relative}"


def delivered_files(
    family: Family, landing_root: Path, listed: list[LandingEntry] | None = None
) -> list[Delivered]:
    """The family's files that the landing boundary accepts (refused files launch nothing).

    `listed` is the landing area's inventory when the caller already has it.
    """
    found = []
    contracts = set(list_contracts())
    for dataset in family.datasets:
        # published statistics have no contract: each format's parser checks its files
        source = load_contract(dataset).custom["source"] if dataset in contracts else {}
        if source.get("root") == "reference":
            path = REFERENCE_DIR / source["landing"]
            if path.is_file():
                relative = path.relative_to(REFERENCE_DIR.parent).as_posix()
                found.append(Delivered(dataset, relative, None, path))
            continue
        listed = listed if listed is not None else inventory(landing_root)
        found += [
            Delivered(dataset, entry.path, entry.month, landing_root / entry.path)
            for entry in listed
            if entry.dataset == dataset and entry.refused is None
        ]
    return sorted(found, key=lambda d: d.key)


def fingerprint(delivered: Delivered, previous: list[Any] | None) -> list[Any]:
    """[size, mtime_ns, sha256]; the sha256 is reused while size and mtime are unchanged."""
    stat = delivered.path.stat()
    if previous and previous[0] == stat.st_size and previous[1] == stat.st_mtime_ns:
        return previous
    return [stat.st_size, stat.st_mtime_ns, sha256_file(delivered.path)]


def loaded_files(published: Path) -> set[tuple[str, str, str]]:
    """(dataset, file, sha256) of every file the published warehouse loaded (empty if none).

    By name and bytes: a month delivered with the bytes of another month is not loaded.
    Published trade statistics are recorded with their rows, not in `audit.file_loads`.
    """
    if not published.is_file():
        return set()
    con = duckdb.connect(str(published), read_only=True)
    try:
        rows = []
        if table_exists(con, "audit", "file_loads"):
            rows += con.execute(
                "select distinct dataset, file, sha256 from audit.file_loads"
            ).fetchall()
        if table_exists(con, "staging", "published_trade_statistics"):
            rows += con.execute(
                "select distinct 'published_trade_statistics', source_file, source_sha256 "
                "from staging.published_trade_statistics"
            ).fetchall()
        return {(row[0], row[1], row[2]) for row in rows}
    finally:
        con.close()


def run_requests(
    context: dg.SensorEvaluationContext,
    listed: list[LandingEntry],
    family: Family,
    changed: list[Delivered],
    sha256: dict[str, str],
    sequence: int,
) -> list[dg.RunRequest]:
    """One run per contiguous block of changed months, or one run for unpartitioned changes."""
    job = context.repository_def.get_job(family.job_name) if context.repository_def else None
    monthly = job is not None and job.partitions_def is not None
    requests = []
    months = sorted({d.month for d in changed if d.month})
    blocks: list[tuple[str, str]] = []
    if monthly:
        # every month any monthly source delivered is a partition; none other is
        delivered_months = {e.month for e in listed if e.month is not None and e.refused is None}
        registered = register_months(context.instance, delivered_months)
        if months:
            blocks = contiguous_blocks(months, registered)
        if any(d.month is None for d in changed) and registered:
            blocks = [(registered[0], registered[-1])]  # a list-wide change: every month
    if monthly and not blocks:
        return []
    windows: list[tuple[str, str] | None] = list(blocks) or [None]
    for window in windows:
        included = [
            d
            for d in changed
            if d.month is None or window is None or window[0] <= d.month <= window[1]
        ]
        files = ",".join(f"{d.relative}@{sha256[d.key][:12]}" for d in included)
        tags = {**JOB_TAGS, FAMILY_TAG: family.name, FILES_TAG: files[:1000]}
        if window is not None:
            tags.update(range_tags(*window))
        # The tick's sequence number makes the key unique (a file changed back to an earlier
        # content, or released by an approval, runs again) yet the same if Dagster retries
        # the tick: a request is launched once.
        span = f"{window[0]}..{window[1]}" if window else "all"
        requests.append(dg.RunRequest(run_key=f"{family.name}:{sequence}:{span}", tags=tags))
    return requests


def evaluate(
    context: dg.SensorEvaluationContext, family: Family, landing: LandingArea, warehouse: Warehouse
) -> dg.SensorResult:
    """What a family's sensor does on one tick (see the module docstring)."""
    writer = active_writer(context.instance, warehouse.lock_path)
    published = Path(warehouse.published_path)
    if writer is not None:
        return dg.SensorResult(
            skip_reason=f"run {writer} is writing the warehouse; trying again next tick"
        )
    cursor: dict[str, Any] = json.loads(context.cursor) if context.cursor else {}
    known: dict[str, list[Any]] = cursor.get("files", {})
    listed = inventory(landing.root)  # one walk of the landing area per tick
    delivered = delivered_files(family, landing.root, listed)
    prints = {d.key: fingerprint(d, known.get(d.key)) for d in delivered}
    sha256 = {key: value[2] for key, value in prints.items()}
    loaded: set[tuple[str, str, str]] | None = None
    if context.cursor:
        changed = [d for d in delivered if (known.get(d.key) or [None] * 3)[2] != sha256[d.key]]
    else:  # a first tick starts from what the published warehouse already holds
        loaded = loaded_files(published)
        changed = [d for d in delivered if (d.dataset, d.relative, sha256[d.key]) not in loaded]
    approvals_file = landing.root / "approvals" / "delivery_approvals.csv"
    approvals_sha = sha256_file(approvals_file) if approvals_file.is_file() else None
    if approvals_sha != cursor.get("approvals"):  # released holds run again
        granted, _ = deliveries.approvals(landing.root)
        approved = {(a.dataset, a.sha256) for a in granted}
        loaded = loaded if loaded is not None else loaded_files(published)
        changed += [
            d
            for d in delivered
            if d not in changed
            and (d.dataset, sha256[d.key]) in approved
            and (d.dataset, d.relative, sha256[d.key]) not in loaded
        ]
    sequence = int(cursor.get("sequence", 0)) + 1
    new_cursor = json.dumps(
        {"files": prints, "approvals": approvals_sha, "sequence": sequence}, sort_keys=True
    )
    if not changed:
        return dg.SensorResult(
            skip_reason=f"no new or changed {family.name} delivery", cursor=new_cursor
        )
    requests = run_requests(context, listed, family, changed, sha256, sequence)
    if not requests:  # a monthly job with no month delivered yet: keep the change for later
        return dg.SensorResult(skip_reason=f"{family.name}: waiting for a first delivered month")
    context.log.info(
        f"{family.name}: {len(changed)} new or changed file(s) -> {len(requests)} run(s)"
    )
    return dg.SensorResult(run_requests=requests, cursor=new_cursor)


def selection(family: Family) -> dg.AssetSelection:
    """The assets reading the family's files and everything downstream (publication included)."""
    keys = ([family.first_layer, d] for d in family.datasets)
    return dg.AssetSelection.assets(*keys).downstream()


def family_job(family: Family) -> dg.UnresolvedAssetJobDefinition:
    """The job a family's sensor launches."""
    return dg.define_asset_job(
        family.job_name,
        selection=selection(family),
        description=f"Load {family.description}, rebuild what depends on them, publish.",
        tags=JOB_TAGS,
    )


def family_sensor(family: Family, job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    """The sensor that launches `job` when one of the family's files lands or changes."""

    @dg.sensor(
        name=f"{family.name}_deliveries",
        job=job,
        minimum_interval_seconds=sensor_interval(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Launch {job.name} when {family.description} land or change.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, landing: LandingArea, warehouse: Warehouse
    ) -> dg.SensorResult:
        return evaluate(context, family, landing, warehouse)

    return _sensor


def month_before(day: date, lag: int) -> str:
    """The month `lag` months before `day`'s month, as YYYY-MM."""
    index = day.year * 12 + day.month - 1 - lag
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Due:
    """A monthly source that arrives by a date: month M is due on `day` of month M + `lag`."""

    family: Family
    dataset: str
    day: int
    lag: int


def due_schedule(due: Due, job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """On the due day: load the due month if it landed but is not loaded; alert if it is missing."""

    @dg.schedule(
        name=f"{due.dataset}_due",
        cron_schedule=f"0 6 {due.day} * *",
        job=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"On day {due.day} of each month, the {due.dataset} file of {due.lag} month(s) "
            "before is due: load it if the sensor has not, or send an alert that it is missing."
        ),
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext,
        landing: LandingArea,
        warehouse: Warehouse,
        notifier: Notifier,
    ) -> dg.RunRequest | dg.SkipReason:
        scheduled = context.scheduled_execution_time
        month = month_before(scheduled.date() if scheduled else date.today(), due.lag)
        files = [
            d
            for d in delivered_files(due.family, landing.root)
            if d.dataset == due.dataset and d.month == month
        ]
        if not files:
            alert = make_alert(
                "WARN",
                f"schedule {due.dataset}_due",
                f"{due.dataset} {month} missing",
                f"the {due.dataset} file for {month} was due by day {due.day} and has not landed "
                f"in {landing.root}",
            )
            notifier.send(alert, context.log)
            return dg.SkipReason(f"{due.dataset} {month} has not landed (alert sent)")
        loaded = loaded_files(Path(warehouse.published_path))
        if all((d.dataset, d.relative, sha256_file(d.path)) in loaded for d in files):
            return dg.SkipReason(f"{due.dataset} {month} is already in the published warehouse")
        writer = active_writer(context.instance, warehouse.lock_path)
        if writer is not None:
            return dg.SkipReason(f"run {writer} is writing the warehouse; the sensor will load it")
        register_months(context.instance, [month])
        return dg.RunRequest(
            run_key=f"{due.dataset}_due:{month}",
            tags={**JOB_TAGS, FAMILY_TAG: due.family.name, **range_tags(month, month)},
        )

    return _schedule


def _family(name: str) -> Family:
    return next(f for f in FAMILIES if f.name == name)


# Published trade statistics for month M are out by the 20th of month M + 2.
DUE = (Due(_family("trade_statistics"), "trade_statistics", day=20, lag=2),)
JOBS = {family.name: family_job(family) for family in FAMILIES}
SENSORS = [family_sensor(family, JOBS[family.name]) for family in FAMILIES]
SCHEDULES = [due_schedule(due, JOBS[due.family.name]) for due in DUE]
