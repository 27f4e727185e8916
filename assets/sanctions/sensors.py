"""Notice new sanctions-list snapshots in the landing area and rebuild what depends on them."""

import json

import dagster as dg

from assets.common.landing import LandingArea
from assets.sanctions.registry import landed_snapshots

LIST_VERSION_TAG = "chokepoint/list_version"
NEW_SNAPSHOTS_TAG = "chokepoint/new_snapshots"

# The sanctions assets and everything downstream of them; trade and tax ingest are not rebuilt.
SANCTIONS_DOWNSTREAM = dg.AssetSelection.assets(["raw", "sanctions_files"]).downstream()

rebuild_after_list_change = dg.define_asset_job(
    "rebuild_after_list_change",
    selection=SANCTIONS_DOWNSTREAM,
    description="Re-read the sanctions lists and rebuild every table that depends on them.",
)


@dg.sensor(
    job=rebuild_after_list_change,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def sanctions_snapshot_sensor(
    context: dg.SensorEvaluationContext, landing: LandingArea
) -> dg.SensorResult:
    """Launch a rebuild when a sanctions snapshot lands that this sensor has not seen."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    snapshots = landed_snapshots(landing.root)
    new = [s for s in snapshots if seen.get(s.version) != s.fingerprint]
    if not new:
        return dg.SensorResult(skip_reason="no new sanctions snapshot")
    latest: dict[str, str] = {}
    for snapshot in snapshots:  # oldest first per list: the last one seen is the newest
        latest[snapshot.spec.list_id] = snapshot.version
    run = dg.RunRequest(
        run_key="+".join(sorted(s.fingerprint for s in new)),
        tags={
            LIST_VERSION_TAG: ",".join(sorted(latest.values())),
            NEW_SNAPSHOTS_TAG: ",".join(s.version for s in new),
        },
    )
    cursor = {s.version: s.fingerprint for s in snapshots}
    return dg.SensorResult(run_requests=[run], cursor=json.dumps(cursor, sort_keys=True))
