"""Deliveries drive runs: the family sensors, the months they register, the due schedule.

The sensors are evaluated directly (one tick each) against a copy of the demo build; the runs
they launch are executed by a real daemon in `tests/deploy/test_daemon.py`.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from conftest import DemoBuild, copy_of_demo, land_moved_month, record_run, settings_for

from assets.common.partitions import MONTHS_NAME, contiguous_blocks, register_months
from assets.common.run_lock import run_lock
from assets.common.writers import WRITER_TAGS
from assets.landing.sensors import FAMILY_TAG
from orchestration.definitions import build_definitions
from orchestration.resources import resources_for
from orchestration.settings import Settings

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def _tick(
    instance: dg.DagsterInstance, settings: Settings, sensor: str, cursor: str | None = None
) -> dg.SensorResult:
    definitions = build_definitions(settings)
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=definitions,
        resources=resources_for(settings),
    ) as context:
        result = definitions.resolve_sensor_def(sensor)(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _skip(result: dg.SensorResult) -> str:
    assert result.skip_reason is not None
    return result.skip_reason.skip_message or ""


def _months(instance: dg.DagsterInstance) -> list[str]:
    return list(instance.get_dynamic_partitions(MONTHS_NAME))


def test_months_stay_in_calendar_order_when_one_arrives_late() -> None:
    with dg.instance_for_test() as instance:
        assert register_months(instance, ["2024-02", "2024-03"]) == ["2024-02", "2024-03"]
        assert register_months(instance, ["2024-04"]) == ["2024-02", "2024-03", "2024-04"]
        assert register_months(instance, ["2024-01"]) == [
            "2024-01",
            "2024-02",
            "2024-03",
            "2024-04",
        ]
        assert _months(instance) == ["2024-01", "2024-02", "2024-03", "2024-04"]


def test_changed_months_are_grouped_into_contiguous_runs() -> None:
    registered = ["2024-01", "2024-02", "2024-03", "2024-05", "2024-06"]
    assert contiguous_blocks(["2024-06", "2024-01", "2024-02"], registered) == [
        ("2024-01", "2024-02"),
        ("2024-06", "2024-06"),
    ]
    # 2024-04 was never delivered: 2024-03 and 2024-05 are neighbours
    assert contiguous_blocks(["2024-03", "2024-05"], registered) == [("2024-03", "2024-05")]


def test_a_first_tick_on_an_empty_warehouse_loads_every_delivered_month(tmp_path: Path) -> None:
    from orchestration import cli

    settings = settings_for(tmp_path)
    cli.seed_landing(settings)
    with dg.instance_for_test() as instance:
        result = _tick(instance, settings, "customs_deliveries")
        (request,) = result.run_requests or []
        assert request.tags[RANGE_START] == "2022-01"
        assert request.tags[RANGE_END] == "2024-12"
        assert request.tags[FAMILY_TAG] == "customs"
        assert request.tags["chokepoint/writes"] == "warehouse"
        # exactly the delivered months exist as partitions: none before, none after
        months = _months(instance)
        assert months[0] == "2022-01" and months[-1] == "2024-12" and len(months) == 36
        # the tax files feed a monthly mart (sales to defence buyers): every month is rebuilt
        (tax,) = _tick(instance, settings, "tax_deliveries").run_requests or []
        assert (tax.tags[RANGE_START], tax.tags[RANGE_END]) == ("2022-01", "2024-12")
        # analysts' decisions feed no monthly table: a run without months
        (decisions,) = _tick(instance, settings, "decisions_deliveries").run_requests or []
        assert RANGE_START not in decisions.tags


@pytest.fixture
def demo_copy(demo_build: DemoBuild, tmp_path: Path) -> Settings:
    return copy_of_demo(demo_build, tmp_path)


def test_the_cursor_starts_from_what_the_warehouse_holds(demo_copy: Settings) -> None:
    with dg.instance_for_test() as instance:
        for sensor in (
            "customs_deliveries",
            "tax_deliveries",
            "trade_statistics_deliveries",
            "published_statistics_deliveries",
        ):
            result = _tick(instance, demo_copy, sensor)
            assert not result.run_requests, sensor
            assert "no new or changed" in _skip(result)
        sanctions = _tick(instance, demo_copy, "sanctions_snapshot_sensor")
        assert not sanctions.run_requests  # the demo's two OFAC snapshots are already loaded


def test_a_new_month_and_a_corrected_month_each_run_only_their_month(
    demo_copy: Settings,
) -> None:
    with dg.instance_for_test() as instance:
        cursor = _tick(instance, demo_copy, "customs_deliveries").cursor
        land_moved_month(demo_copy.landing_dir, "2025-01")
        result = _tick(instance, demo_copy, "customs_deliveries", cursor)
        (request,) = result.run_requests or []
        assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2025-01", "2025-01")
        assert "customs/declarations_2025-01.csv@" in request.tags["chokepoint/files"]
        assert _months(instance)[-1] == "2025-01"
        again = _tick(instance, demo_copy, "customs_deliveries", result.cursor)
        assert not again.run_requests  # seen once, launched once

        corrected = demo_copy.landing_dir / "customs" / "declarations_2023-05.csv"
        corrected.write_text(corrected.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        fixed = _tick(instance, demo_copy, "customs_deliveries", again.cursor)
        (rerun,) = fixed.run_requests or []
        assert (rerun.tags[RANGE_START], rerun.tags[RANGE_END]) == ("2023-05", "2023-05")


def test_a_published_statistics_extract_launches_its_load(demo_copy: Settings) -> None:
    from assets.trade_statistics.formats import LANDING

    with dg.instance_for_test() as instance:
        cursor = _tick(instance, demo_copy, "published_statistics_deliveries").cursor
        folder = demo_copy.landing_dir / LANDING / "eurostat_comext"
        bundled = sorted(folder.glob("*.csv"))[0]
        shutil.copyfile(bundled, folder / "extract_2025.csv")
        result = _tick(instance, demo_copy, "published_statistics_deliveries", cursor)
        (request,) = result.run_requests or []
        assert request.tags[FAMILY_TAG] == "published_statistics"
        assert f"{LANDING}/eurostat_comext/extract_2025.csv@" in request.tags["chokepoint/files"]
        # the job reads the extracts and rebuilds what depends on them, and publishes
        job = build_definitions(demo_copy).resolve_job_def("load_published_statistics")
        keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
        assert "staging/published_trade_statistics" in keys
        assert "audit/publications" in keys
        assert "raw/customs_declarations" not in keys
        again = _tick(instance, demo_copy, "published_statistics_deliveries", result.cursor)
        assert not again.run_requests


def test_a_tick_skips_while_a_writer_is_running_and_keeps_its_cursor(
    demo_copy: Settings,
) -> None:
    with dg.instance_for_test() as instance:
        cursor = _tick(instance, demo_copy, "customs_deliveries").cursor
        land_moved_month(demo_copy.landing_dir, "2025-01")
        writer = record_run(instance, dg.DagsterRunStatus.STARTED, tags=WRITER_TAGS)
        lock = demo_copy.build_path.with_name(demo_copy.build_path.name + ".lock")
        with run_lock(lock, writer.run_id, wait_seconds=0):
            for sensor in ("customs_deliveries", "sanctions_snapshot_sensor"):
                skipped = _tick(instance, demo_copy, sensor, cursor)
                assert not skipped.run_requests
                assert writer.run_id in _skip(skipped)
                assert skipped.cursor is None  # unchanged: the next tick sees the month again
        # still "started" in Dagster's records, but its process is gone (the lock is free):
        # a dead run does not hold the sensors back
        (request,) = _tick(instance, demo_copy, "customs_deliveries", cursor).run_requests or []
        assert request.tags[RANGE_START] == "2025-01"
        instance.report_run_failed(writer)
        # being launched: a writer, before it takes the lock
        starting = record_run(instance, dg.DagsterRunStatus.STARTING, tags=WRITER_TAGS)
        skipped = _tick(instance, demo_copy, "customs_deliveries", cursor)
        assert starting.run_id in _skip(skipped)


def test_an_approval_relaunches_the_held_delivery_it_releases(demo_copy: Settings) -> None:
    with dg.instance_for_test() as instance:
        month = demo_copy.landing_dir / "customs" / "declarations_2024-06.csv"
        header = month.read_text(encoding="utf-8").splitlines()[0]
        seen = _tick(instance, demo_copy, "customs_deliveries").cursor
        month.write_text(header + "\n", encoding="utf-8")  # emptied: the run would hold it
        held = _tick(instance, demo_copy, "customs_deliveries", seen)
        assert len(held.run_requests or []) == 1
        assert not _tick(instance, demo_copy, "customs_deliveries", held.cursor).run_requests
        from assets.common.raw import sha256_file

        approvals = demo_copy.landing_dir / "approvals" / "delivery_approvals.csv"
        approvals.parent.mkdir(exist_ok=True)
        approvals.write_text(
            "dataset,file,sha256,approved_by,approved_on,note\n"
            f"customs_declarations,customs/declarations_2024-06.csv,{sha256_file(month)},"
            f"a.reviewer,{datetime.now(UTC).date().isoformat()},month withdrawn by customs\n",
            encoding="utf-8",
        )
        released = _tick(instance, demo_copy, "customs_deliveries", held.cursor)
        (request,) = released.run_requests or []
        assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2024-06", "2024-06")
        # the same file as the held run: a new run key, or Dagster would not launch it again
        assert request.run_key != (held.run_requests or [])[0].run_key


def test_the_due_schedule_alerts_when_the_month_has_not_landed(demo_copy: Settings) -> None:
    schedule = build_definitions(demo_copy).resolve_schedule_def("trade_statistics_due")

    def due_on(instance: dg.DagsterInstance, day: datetime) -> dg.ScheduleExecutionData:
        with dg.build_schedule_context(
            instance=instance, scheduled_execution_time=day, resources=resources_for(demo_copy)
        ) as context:
            return schedule.evaluate_tick(context)

    with dg.instance_for_test() as instance:
        # statistics for 2024-12 are due on 2025-02-20 and are in the demo: nothing to do
        on_time = due_on(instance, datetime(2025, 2, 20, 6, tzinfo=UTC))
        assert not on_time.run_requests
        assert "already in the published warehouse" in (on_time.skip_message or "")
        # 2025-01 is due on 2025-03-20 and has not landed: an alert, no run
        missing = due_on(instance, datetime(2025, 3, 20, 6, tzinfo=UTC))
        assert not missing.run_requests
        alerts = [
            json.loads(line)
            for line in demo_copy.alerts_path.read_text(encoding="utf-8").splitlines()
        ]
        assert alerts[-1]["subject"] == "trade_statistics 2025-01 missing"
        assert alerts[-1]["severity"] == "WARN"
        # landed but not loaded (no sensor running): the schedule loads that month
        statistics = demo_copy.landing_dir / "trade_statistics"
        shutil.copyfile(statistics / "exports_2024-12.csv", statistics / "exports_2025-01.csv")
        (request,) = due_on(instance, datetime(2025, 3, 20, 6, tzinfo=UTC)).run_requests or []
        assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2025-01", "2025-01")


def test_a_snapshot_of_a_new_date_with_the_same_bytes_is_a_new_version(
    demo_copy: Settings,
) -> None:
    from assets.sanctions.sensors import LIST_VERSION_TAG

    with dg.instance_for_test() as instance:
        first = _tick(instance, demo_copy, "sanctions_snapshot_sensor")
        assert not first.run_requests and first.cursor  # the first tick keeps what it found
        ofac = demo_copy.landing_dir / "sanctions" / "ofac_sdn"
        shutil.copyfile(ofac / "sdn_2024-02-23.csv", ofac / "sdn_2024-02-26.csv")
        (request,) = (
            _tick(instance, demo_copy, "sanctions_snapshot_sensor", first.cursor).run_requests or []
        )
        assert request.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-26"
        # a daemon started afresh (no cursor) sees it too: the warehouse holds 02-23, not 02-26
        (fresh,) = _tick(instance, demo_copy, "sanctions_snapshot_sensor").run_requests or []
        assert fresh.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-26"


def test_a_changed_exchange_rate_file_rebuilds_every_month_downstream(
    demo_copy: Settings,
) -> None:
    """The exchange rates are one file for every month (not partitioned): a new version of it
    runs its job over every delivered month, through the shipments to publication."""
    with dg.instance_for_test() as instance:
        cursor = _tick(instance, demo_copy, "fx_rates_deliveries").cursor
        rates = demo_copy.landing_dir / "reference" / "fx_monthly.csv"
        rates.write_bytes(rates.read_bytes() + b"\n")  # the same rates, other bytes
        result = _tick(instance, demo_copy, "fx_rates_deliveries", cursor)
        (request,) = result.run_requests or []
        months = _months(instance)
        assert (request.tags[RANGE_START], request.tags[RANGE_END]) == (min(months), max(months))
        assert request.tags[FAMILY_TAG] == "fx_rates"
        job = build_definitions(demo_copy).resolve_job_def("load_fx_rates")
        keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
        assert {"staging/fx_rates", "core/shipments", "audit/publications"} <= keys
        assert "raw/customs_declarations" not in keys
