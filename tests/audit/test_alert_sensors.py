"""Alert sensors: a failed run, failed checks and the published `audit.alerts` reach the notifier.

Each sensor is ticked as the daemon would (no daemon): twice with the cursor it returned, to show
that an alert is sent once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from assets.audit import alerts
from assets.audit.notify import Notifier
from assets.audit.sensors import (
    alert_on_failed_checks,
    alert_on_run_failure,
    forward_published_alerts,
)
from assets.common.warehouse import Warehouse


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@dg.op
def fetch_delivery() -> None:
    raise OSError("landing share unreachable\nsecond line of detail")


@dg.job
def tiny_job() -> None:
    fetch_delivery()


def test_a_failed_run_sends_one_alert_naming_the_job_run_and_first_error_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "alerts.jsonl"
    with dg.instance_for_test() as instance:
        result = tiny_job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name=alert_on_run_failure.name,
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"notifier": Notifier(alerts_file=str(path))},
        ).for_run_failure()
        alert_on_run_failure(context)
    (record,) = _records(path)
    assert record["severity"] == "ERROR"
    assert record["source"] == "run_failure"
    assert record["subject"] == "job tiny_job"
    assert record["run_id"] == result.run_id
    assert record["message"] == "fetch_delivery: OSError: landing share unreachable"


def test_the_run_failure_alert_names_the_partition_and_the_retry(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    with dg.instance_for_test() as instance:
        result = tiny_job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={"dagster/partition": "2024-01-01", "dagster/retry_number": "1"},
        )
        context = dg.build_run_status_sensor_context(
            sensor_name=alert_on_run_failure.name,
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"notifier": Notifier(alerts_file=str(path))},
        ).for_run_failure()
        alert_on_run_failure(context)
    (record,) = _records(path)
    assert record["message"].endswith("unreachable [partition 2024-01-01] [retry 1]")


@dg.asset
def shipments() -> int:
    return 3


@dg.asset_check(asset=shipments)
def volume_within_bounds() -> dg.AssetCheckResult:
    """A WARN check that fails."""
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.WARN, description="3 rows, expected 5..10"
    )


@dg.asset_check(asset=shipments)
def no_pending_snapshots() -> dg.AssetCheckResult:
    """An ERROR check that fails."""
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.ERROR, description="ofac_sdn@2024-02-23 held"
    )


@dg.asset_check(asset=shipments)
def no_file_refused() -> dg.AssetCheckResult:
    """A check that passes."""
    return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.ERROR)


_CHECKS_DEFS = dg.Definitions(
    assets=[shipments], asset_checks=[volume_within_bounds, no_pending_snapshots, no_file_refused]
)


def _tick_checks(
    instance: dg.DagsterInstance, notifier: Notifier, cursor: str | None
) -> dg.SensorResult:
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=_CHECKS_DEFS,
        resources={"notifier": notifier},
    ) as context:
        result = alert_on_failed_checks(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_failed_checks_are_sent_once_per_check_and_run(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    notifier = Notifier(alerts_file=str(path))
    job = _CHECKS_DEFS.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        first_run = job.execute_in_process(instance=instance).run_id
        first = _tick_checks(instance, notifier, None)
        sent = _records(path)
        assert {(r["subject"], r["severity"], r["run_id"]) for r in sent} == {
            ("shipments:volume_within_bounds", "WARN", first_run),
            ("shipments:no_pending_snapshots", "ERROR", first_run),
        }
        assert len(sent) == 2
        assert {r["message"] for r in sent} == {
            "3 rows, expected 5..10",
            "ofac_sdn@2024-02-23 held",
        }

        quiet = _tick_checks(instance, notifier, first.cursor)
        assert quiet.skip_reason is not None
        assert len(_records(path)) == 2

        second_run = job.execute_in_process(instance=instance).run_id
        second = _tick_checks(instance, notifier, quiet.cursor)
        again = _tick_checks(instance, notifier, second.cursor)
        assert again.skip_reason is not None
        later = _records(path)[2:]
        assert sorted((r["subject"], r["run_id"]) for r in later) == [
            ("shipments:no_pending_snapshots", second_run),
            ("shipments:volume_within_bounds", second_run),
        ]


def test_a_first_tick_sends_checks_failing_now_not_their_history(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    job = _CHECKS_DEFS.resolve_implicit_global_asset_job_def()
    fixed = dg.Definitions(assets=[shipments], asset_checks=[_passing_volume_check()])
    with dg.instance_for_test() as instance:
        job.execute_in_process(instance=instance)  # both checks fail
        fixed_run = fixed.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance
        )
        assert fixed_run.success  # volume_within_bounds now passes
        _tick_checks(instance, Notifier(alerts_file=str(path)), None)
    assert [r["subject"] for r in _records(path)] == ["shipments:no_pending_snapshots"]


def _passing_volume_check() -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=shipments, name="volume_within_bounds")
    def passing() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN)

    return passing


def _published(
    path: Path, rows: list[tuple[datetime, str, str, str]], runs: list[tuple[str, datetime]]
) -> None:
    """A published warehouse with these alerts (at, severity, subject, message) and publications."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists audit")
        for at, severity, subject, message in rows:
            alerts.raise_alert(con, "sanctions_guard", severity, subject, message, at)
        con.execute(
            "create or replace table audit.publications "
            "(run_id varchar, published_at timestamp with time zone)"
        )
        for run_id, at in runs:
            con.execute(
                "insert into audit.publications values ($run, $at)", {"run": run_id, "at": at}
            )
    finally:
        con.close()


def _tick_forwarder(
    instance: dg.DagsterInstance, published: Path, notifier: Notifier, cursor: str | None
) -> dg.SensorResult:
    warehouse = Warehouse(
        build_path=str(published.with_name("w.build.duckdb")), published_path=str(published)
    )
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"notifier": notifier, "warehouse": warehouse},
    ) as context:
        result = forward_published_alerts(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_published_alerts_are_forwarded_once_with_the_run_that_published_them(
    tmp_path: Path,
) -> None:
    path, published = tmp_path / "alerts.jsonl", tmp_path / "warehouse" / "w.duckdb"
    notifier = Notifier(alerts_file=str(path))
    t0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    held = (t0, "ERROR", "ofac_sdn@2024-02-23", "held for review")
    refused = (t0, "ERROR", "declarations_2024-01.csv", "refused: missing column")
    with dg.instance_for_test() as instance:
        nothing = _tick_forwarder(instance, published, notifier, None)  # no warehouse yet
        assert nothing.skip_reason is not None and not _records(path)

        _published(published, [held, refused], [("run-a", t0 + timedelta(minutes=5))])
        first = _tick_forwarder(instance, published, notifier, nothing.cursor)
        sent = _records(path)
        assert sorted(r["subject"] for r in sent) == [
            "declarations_2024-01.csv",
            "ofac_sdn@2024-02-23",
        ]
        assert {r["run_id"] for r in sent} == {"run-a"}
        assert {r["source"] for r in sent} == {"sanctions_guard"}

        quiet = _tick_forwarder(instance, published, notifier, first.cursor)
        assert quiet.skip_reason is not None and len(_records(path)) == 2

        # another alert at the very instant of the cursor, and a later one from another run
        same_instant = (t0, "WARN", "uk_consolidated@2024-02-20", "rejected: empty file")
        later = (t0 + timedelta(days=1), "ERROR", "ofac_sdn@2024-03-01", "held for review")
        _published(
            published,
            [held, refused, same_instant, later],
            [("run-a", t0 + timedelta(minutes=5)), ("run-b", t0 + timedelta(days=1, minutes=5))],
        )
        second = _tick_forwarder(instance, published, notifier, quiet.cursor)
        assert second.skip_reason is None
        new = _records(path)[2:]
        assert [(r["subject"], r["run_id"]) for r in new] == [
            ("uk_consolidated@2024-02-20", "run-a"),
            ("ofac_sdn@2024-03-01", "run-b"),
        ]
        assert _tick_forwarder(instance, published, notifier, second.cursor).skip_reason
        assert len(_records(path)) == 4


def test_the_code_location_runs_the_alert_sensors_with_a_notifier(tmp_path: Path) -> None:
    from conftest import settings_for

    from orchestration.definitions import build_definitions

    settings = settings_for(tmp_path)
    defs = build_definitions(settings)
    dg.Definitions.validate_loadable(defs)
    for sensor in (alert_on_run_failure, alert_on_failed_checks, forward_published_alerts):
        loaded = defs.resolve_sensor_def(sensor.name)
        assert loaded.default_status == dg.DefaultSensorStatus.RUNNING
    notifier = (defs.resources or {})["notifier"]
    assert isinstance(notifier, Notifier)
    assert notifier.alerts_file == str(tmp_path / "alerts.jsonl")
    with dg.instance_for_test() as instance:
        # ticked as the daemon would, with the code location's own resources: nothing published yet
        with dg.build_sensor_context(
            instance=instance, definitions=defs, resources=defs.resources or {}
        ) as context:
            tick = defs.resolve_sensor_def(forward_published_alerts.name).evaluate_tick(context)
        assert not tick.run_requests
        assert tick.skip_message == "no new alert in the published warehouse"
