"""Notice new sanctions-list snapshots in the landing area and rebuild what depends on them."""

import json

import dagster as dg

from assets.common.landing import LandingArea
from assets.sanctions.snapshots import LIST_ID, landed_snapshots

LIST_VERSION_TAG = "chokepoint/list_version"

# The sanctions assets and everything downstream of them; trade and tax ingest are not rebuilt.
SANCTIONS_DOWNSTREAM = dg.AssetSelection.assets(["raw", "ofac_sdn"]).downstream()

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
    new = [s for s in snapshots if seen.get(s.path.name) != s.sha256]
    if not new:
        return dg.SensorResult(skip_reason="no new sanctions snapshot")
    latest = max(snapshots, key=lambda s: s.as_of)
    version = f"{LIST_ID}@{latest.as_of.isoformat()}"
    run = dg.RunRequest(
        run_key="+".join(sorted(s.sha256[:16] for s in new)),
        tags={
            LIST_VERSION_TAG: version,
            "chokepoint/new_snapshots": ",".join(s.path.name for s in new),
        },
    )
    cursor = {s.path.name: s.sha256 for s in snapshots}
    return dg.SensorResult(run_requests=[run], cursor=json.dumps(cursor, sort_keys=True))
