"""The Dagster daemon runs the pipeline unattended: deliveries land, sensors launch, runs publish.

One real `dagster-daemon` (the project's local instance config: SQLite storage, one run at a
time) against a copy of the demo build, sensors ticking every few seconds:
1. its first ticks launch nothing (the cursors start from what the warehouse holds);
2. a new customs month and a new sanctions snapshot land at once: two runs, one after the
   other, the month's run covering only that month, and both published;
3. an emptied month lands: its run fails (the delivery is held) and an alert record names it.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import DemoBuild, copy_of_demo, land_moved_month
from servers import Services, dagster_env, start_daemon, wait_until

from assets.common import sql

pytestmark = pytest.mark.e2e  # builds of its own: `make test-e2e`

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
MONTH_PARTITIONED = [
    ("core", "shipments"),
    ("marts", "flagged_shipments"),
    ("marts", "dual_use_trade_monthly"),
    ("marts", "mirror_trade_monthly"),
    ("marts", "transshipment_routes"),
]
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def _runs(home: Path) -> list[dg.RunRecord]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return list(instance.get_run_records(order_by="create_timestamp", ascending=True))


def _finished(home: Path, count: int) -> list[dg.RunRecord] | None:
    records = _runs(home)
    done = [r for r in records if r.dagster_run.status in FINISHED]
    return records if len(records) >= count and len(done) == len(records) else None


def test_the_daemon_loads_deliveries_one_run_at_a_time_and_alerts_on_failure(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    settings = copy_of_demo(demo_build, tmp_path / "data")
    home = settings.dagster_home
    env = dagster_env(
        home,
        settings.data_dir,
        environment="local",
        extra={"CHOKEPOINT_SENSOR_INTERVAL_SECONDS": "3"},
    )
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        loaded_before = set(con.execute("select * from audit.file_loads").fetchall())
    with Services(tmp_path / "logs") as services:
        daemon = start_daemon(services, env, module="orchestration.definitions")

        # 1. first ticks: the cursors start from the published warehouse, nothing is launched
        def ticked() -> bool:
            log = daemon.log_path.read_text(encoding="utf-8", errors="replace")
            return all(
                f"Sensor {name} skipped" in log
                for name in ("customs_deliveries", "sanctions_snapshot_sensor", "tax_deliveries")
            )

        wait_until(ticked, "the first sensor ticks", 120, services)
        assert _runs(home) == []

        # 2. two deliveries at once: a new month and a new sanctions snapshot
        land_moved_month(settings.landing_dir, "2025-01")
        ofac = settings.landing_dir / "sanctions" / "ofac_sdn"
        # the next snapshot: one old entry (the first, a Cuban airline listed in the 1990s) gone
        lines = (ofac / "sdn_2024-02-23.csv").read_bytes().split(b"\r\n")
        (ofac / "sdn_2024-02-26.part").write_bytes(b"\r\n".join(lines[1:]))
        (ofac / "sdn_2024-02-26.part").replace(ofac / "sdn_2024-02-26.csv")
        records = wait_until(lambda: _finished(home, 2), "two runs finishing", 420, services)
        assert len(records) == 2, services.logs()
        by_job = {r.dagster_run.job_name: r for r in records}
        assert set(by_job) == {"load_customs", "rebuild_after_list_change"}
        for record in records:
            assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS, services.logs()
        month = by_job["load_customs"].dagster_run.tags
        assert (month[RANGE_START], month[RANGE_END]) == ("2025-01", "2025-01")
        first, second = records
        assert first.end_time is not None and second.start_time is not None
        assert second.start_time >= first.end_time  # one writer: the other waited
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            published = con.execute(
                "select run_id from audit.publications order by published_at"
            ).fetchall()
            steps = dict(
                con.execute(
                    "select asset_key, partition_key from audit.step_log where run_id = $run",
                    {"run": by_job["load_customs"].dagster_run.run_id},
                ).fetchall()
            )
            loaded = set(con.execute("select * from audit.file_loads").fetchall())
            months = con.execute(
                "select count(distinct strftime(declaration_date, '%Y-%m')) "
                "from staging.customs_declarations"
            ).fetchone()
            versions = con.execute(
                "select distinct sanctions_list_versions from marts.dual_use_trade_monthly"
            ).fetchall()
        finally:
            con.close()
        assert [row[0] for row in published[-2:]] == [r.dagster_run.run_id for r in records]
        # the month's run read that month only, and no other family's files
        assert steps["raw/customs_declarations"] == "2025-01"
        assert steps["staging/customs_declarations"] == "2025-01"
        assert "raw/sanctions_files" not in steps
        assert [row[1] for row in loaded - loaded_before] == ["customs/declarations_2025-01.csv"]
        assert months == (37,)  # the 36 demo months kept, the new one added

        # The month-partitioned core tables and marts: the month's run rebuilt its month only,
        # and each holds exactly what its SQL gives over every month (the list rebuild ran over
        # all months, before or after it).
        customs_run = by_job["load_customs"].dagster_run.run_id
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for key in (["core", "shipments"], ["marts", "flagged_shipments"]):
                events = instance.fetch_materializations(dg.AssetKey(key), limit=500).records
                assert {
                    e.asset_materialization.partition
                    for e in events
                    if e.run_id == customs_run and e.asset_materialization is not None
                } == {"2025-01"}, key
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            for layer, table in MONTH_PARTITIONED:
                statement, ref = sql.load(layer, table), sql.table_ref(layer, table)
                for query in (
                    f"select count(*) from (({statement}) except all (select * from {ref}))",  # noqa: S608
                    f"select count(*) from ((select * from {ref}) except all ({statement}))",  # noqa: S608
                ):
                    assert con.execute(query).fetchone() == (0,), f"{layer}.{table}"
        finally:
            con.close()
        assert len(versions) == 1 and "ofac_sdn@2024-02-26" in str(versions[0][0])

        # 3. a month emptied by its redelivery: held, the run fails, an alert names the run
        june = settings.landing_dir / "customs" / "declarations_2024-06.csv"
        header = june.read_text(encoding="utf-8").splitlines()[0]
        june.write_text(header + "\n", encoding="utf-8")
        records = wait_until(lambda: _finished(home, 3), "the third run finishing", 240, services)
        failed = records[-1].dagster_run
        assert failed.job_name == "load_customs"
        assert failed.status == dg.DagsterRunStatus.FAILURE

        def alerted() -> list[dict[str, object]] | None:
            path = settings.alerts_path
            if not path.exists():
                return None
            alerts = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            found = [a for a in alerts if a.get("run_id") == failed.run_id]
            sources = {a["source"] for a in found}
            return found if {"run_failure", "asset_check"} <= sources else None

        # the run's failure, and the failed check that says why (the file, the rows lost)
        alerts = wait_until(alerted, "alerts for the failed run and its check", 90, services)
        (check,) = [a for a in alerts if a["source"] == "asset_check"]
        assert "customs/declarations_2024-06.csv: 0 rows where" in str(check["message"])
