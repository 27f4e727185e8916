"""Notice new sanctions-list snapshots (and approval rows) in the landing area and rebuild.

The run's `chokepoint/list_version` tag must never name a snapshot that is not in force. The
sensor cannot judge a new snapshot (the guard does, inside the run), so it names the latest landed
snapshot of each list that the published warehouse does not already know as rejected or held for
review (unless a valid approval row now releases it); the run's raw step then overwrites the tag
with the versions it actually put in force. A snapshot judged rejected or held during the run
therefore never remains the run's list version.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from assets.common.landing import LandingArea, months_delivered
from assets.common.partitions import every_month_tags
from assets.common.raw import sha256_file
from assets.common.sql import table_ref
from assets.common.ticks import sensor_interval
from assets.common.warehouse import Warehouse, table_exists
from assets.common.writers import JOB_TAGS, active_writer
from assets.sanctions.approvals import approvals_path, read_approvals
from assets.sanctions.registry import Snapshot, landed_snapshots

LIST_VERSION_TAG = "chokepoint/list_version"
NEW_SNAPSHOTS_TAG = "chokepoint/new_snapshots"
APPROVALS_KEY = "approvals_file"

# The sanctions assets and everything downstream of them; trade and tax ingest are not rebuilt.
SANCTIONS_DOWNSTREAM = dg.AssetSelection.assets(["raw", "sanctions_files"]).downstream()

rebuild_after_list_change = dg.define_asset_job(
    "rebuild_after_list_change",
    selection=SANCTIONS_DOWNSTREAM,
    description="Re-read the sanctions lists and rebuild every table that depends on them.",
    tags=JOB_TAGS,
)


def known_not_in_force(published: Path) -> dict[str, str]:
    """Fingerprints the published warehouse knows as 'rejected' or 'held' (empty if unknown)."""
    if not published.is_file():
        return {}
    con = duckdb.connect(str(published), read_only=True)
    try:
        found: dict[str, str] = {}
        for table, status in (("sanctions_rejections", "rejected"), ("pending_delistings", "held")):
            if table_exists(con, "audit", table):
                query = f"select distinct fingerprint from {table_ref('audit', table)}"  # noqa: S608
                rows = con.execute(query).fetchall()
                found.update((row[0], status) for row in rows)
        return found
    finally:
        con.close()


def settled_snapshots(published: Path) -> set[tuple[str, str]]:
    """(version, fingerprint) of each snapshot the published warehouse loaded, rejected or held.

    By version and bytes both: a publisher's snapshot of a new date with unchanged content is a
    new version (the marts name the version they were built from), so it is not settled.
    """
    if not published.is_file():
        return set()
    query = (
        "select distinct list_id || '@' || strftime(snapshot_date, '%Y-%m-%d'), fingerprint "
        "from {table}"
    )
    con = duckdb.connect(str(published), read_only=True)
    try:
        found: set[tuple[str, str]] = set()
        for layer, table in (
            ("raw", "sanctions_files"),
            ("audit", "sanctions_rejections"),
            ("audit", "pending_delistings"),
        ):
            if table_exists(con, layer, table):
                rows = con.execute(query.format(table=table_ref(layer, table))).fetchall()
                found.update((row[0], row[1]) for row in rows)
        return found
    finally:
        con.close()


def expected_versions(
    snapshots: list[Snapshot], not_in_force: dict[str, str], approved: set[tuple[str, str]]
) -> str:
    """The latest landed snapshot per list, leaving out those known rejected or still held."""
    latest: dict[str, str] = {}
    for snapshot in snapshots:  # oldest first per list: the last one kept is the newest
        status = not_in_force.get(snapshot.fingerprint)
        main_sha256 = snapshot.files[snapshot.spec.main_part].sha256
        if status == "rejected" or (
            status == "held" and (snapshot.spec.list_id, main_sha256) not in approved
        ):
            continue
        latest[snapshot.spec.list_id] = snapshot.version
    return ",".join(sorted(latest.values()))


@dg.sensor(
    job=rebuild_after_list_change,
    minimum_interval_seconds=sensor_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def sanctions_snapshot_sensor(
    context: dg.SensorEvaluationContext, landing: LandingArea, warehouse: Warehouse
) -> dg.SensorResult:
    """Launch a rebuild when a snapshot or an approvals file lands that this sensor has not seen."""
    writer = active_writer(context.instance, warehouse.lock_path)
    if writer is not None:
        return dg.SensorResult(
            skip_reason=f"run {writer} is writing the warehouse; trying again next tick"
        )
    snapshots = landed_snapshots(landing.root)
    published = Path(warehouse.published_path)
    approvals_file = approvals_path(landing.root)
    approvals_sha256 = (
        sha256_file(approvals_file)
        if approvals_file.is_file() and not approvals_file.is_symlink()
        else None
    )
    if context.cursor:
        seen: dict[str, str] = json.loads(context.cursor)
    else:  # a first tick starts from the snapshots the published warehouse already settled
        settled = settled_snapshots(published)
        seen = {
            s.version: s.fingerprint for s in snapshots if (s.version, s.fingerprint) in settled
        }
        if approvals_sha256 is not None and published.is_file():  # applied by that build
            seen[APPROVALS_KEY] = approvals_sha256
    new = [s for s in snapshots if seen.get(s.version) != s.fingerprint]
    new_approvals = approvals_sha256 is not None and seen.get(APPROVALS_KEY) != approvals_sha256
    if not new and not new_approvals:
        return dg.SensorResult(
            skip_reason="no new sanctions snapshot or approval",
            cursor=json.dumps(seen, sort_keys=True),  # a first tick keeps what it started from
        )
    try:
        not_in_force = known_not_in_force(published)
    except duckdb.Error as error:
        context.log.warning(f"published warehouse unreadable, outcomes unknown: {error}")
        not_in_force = {}
    approved = set(read_approvals(landing.root, datetime.now(UTC).date()).valid)
    keys = sorted(s.fingerprint for s in new)
    if new_approvals:
        keys.append(f"{APPROVALS_KEY}:{approvals_sha256}")
    # the list-dependent tables are rebuilt over every month
    months = every_month_tags(context.instance, months_delivered(landing.root))
    if not months:
        return dg.SensorResult(skip_reason="no month delivered yet: nothing to rebuild")
    run = dg.RunRequest(
        run_key="+".join(keys),
        tags={
            **JOB_TAGS,
            **months,
            LIST_VERSION_TAG: expected_versions(snapshots, not_in_force, approved),
            NEW_SNAPSHOTS_TAG: ",".join(s.version for s in new),
        },
    )
    cursor = {s.version: s.fingerprint for s in snapshots}
    if approvals_sha256 is not None:
        cursor[APPROVALS_KEY] = approvals_sha256
    return dg.SensorResult(run_requests=[run], cursor=json.dumps(cursor, sort_keys=True))
