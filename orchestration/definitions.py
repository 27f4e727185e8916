"""The Dagster code location: every source's assets, wired to resources, jobs and schedules."""

from __future__ import annotations

import dagster as dg

import assets.audit
import assets.control_lists
import assets.core
import assets.customs
import assets.landing
import assets.landing.sensors as deliveries
import assets.marts.assets
import assets.resolution.assets
import assets.sanctions.assets
import assets.tax
import assets.trade_statistics
from assets.audit.sensors import (
    alert_on_failed_checks,
    alert_on_run_failure,
    forward_published_alerts,
)
from assets.common.writers import JOB_TAGS
from assets.sanctions.sensors import rebuild_after_list_change, sanctions_snapshot_sensor
from orchestration.resources import resources_for
from orchestration.settings import Settings

_SOURCES = [
    assets.landing.defs,
    assets.control_lists.defs,
    assets.sanctions.assets.defs,
    assets.customs.defs,
    assets.trade_statistics.defs,
    assets.tax.defs,
    assets.core.defs,
    assets.resolution.assets.defs,
    assets.marts.assets.defs,
]

_everything = [definition for source in _SOURCES for definition in source]
_checks = [d for d in _everything if isinstance(d, dg.AssetChecksDefinition)]
_assets = [d for d in _everything if not isinstance(d, dg.AssetChecksDefinition)]
# Publishing runs after every table of the build, whichever of them a run selects.
_publish = assets.audit.publication_asset([key for d in _assets for key in d.keys])

build_everything = dg.define_asset_job(
    "build_everything",
    selection=dg.AssetSelection.all(),
    description="Ingest every source, rebuild core and marts, then publish the warehouse.",
    tags=JOB_TAGS,
)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Definitions for the given settings (read from the environment when omitted)."""
    return dg.Definitions(
        assets=[*_assets, _publish],
        asset_checks=_checks,
        jobs=[build_everything, rebuild_after_list_change, *deliveries.JOBS.values()],
        schedules=deliveries.SCHEDULES,
        sensors=[
            *deliveries.SENSORS,
            sanctions_snapshot_sensor,
            alert_on_run_failure,
            alert_on_failed_checks,
            forward_published_alerts,
        ],
        resources=resources_for(settings or Settings.from_env()),
        # One DuckDB file has one writer: steps run one after another in the run's process.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
