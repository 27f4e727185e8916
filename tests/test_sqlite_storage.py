"""The CLI build's event log held open (orchestration/sqlite_storage.py) loses no event."""

import uuid
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration.sqlite_storage import event_log_kept_open

MONTHS = dg.StaticPartitionsDefinition(["2024-01", "2024-02", "2024-03"])


@dg.asset(partitions_def=MONTHS)
def monthly() -> None:
    """A partitioned asset: one materialization per month."""


@dg.asset(deps=[monthly])
def total() -> dg.MaterializeResult:
    """An unpartitioned asset downstream."""
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset_check(asset=total)
def total_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_events_written_through_kept_connections_are_read_by_another_instance(
    tmp_path: Path,
) -> None:
    job = dg.Definitions(
        assets=[monthly, total], asset_checks=[total_has_rows], jobs=[dg.define_asset_job("all")]
    ).resolve_job_def("all")
    run_id = str(uuid.uuid4())
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, SqliteEventLogStorage)
        dagsters_connect, dagsters_has_table = storage._connect, storage.has_table
        dagsters_has_column = storage._has_asset_key_col_on_connection
        with event_log_kept_open(instance, run_id):
            assert storage._connect != dagsters_connect
            assert storage.has_table("asset_check_executions")  # asked once, then remembered
            assert storage.has_table != dagsters_has_table
            with storage.index_connection() as conn:  # asked once, then remembered
                assert storage._has_asset_key_col_on_connection(
                    conn, "last_materialization_timestamp"
                )
                assert not storage._has_asset_key_col_on_connection(conn, "no_such_column")
            # remembered: not asked of the database again (there is no connection to ask it on)
            remembered = storage._has_asset_key_col_on_connection
            assert remembered(None, "last_materialization_timestamp")  # type: ignore[arg-type]
            assert not remembered(None, "no_such_column")  # type: ignore[arg-type]
            assert remembered != dagsters_has_column
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                tags={
                    "dagster/asset_partition_range_start": "2024-01",
                    "dagster/asset_partition_range_end": "2024-03",
                },
            )
        assert result.success
        # Dagster's own methods are back once the run is over
        assert storage._connect == dagsters_connect
        assert storage.has_table == dagsters_has_table
        assert storage._has_asset_key_col_on_connection == dagsters_has_column
    # what another process reading the same folder sees
    with dg.DagsterInstance.local_temp(str(tmp_path)) as reader:
        logged = {e.dagster_event_type for e in reader.all_logs(run_id) if e.is_dagster_event}
        assert dg.DagsterEventType.RUN_SUCCESS in logged
        assert dg.DagsterEventType.STEP_SUCCESS in logged
        partitions = reader.get_materialized_partitions(dg.AssetKey("monthly"))
        assert partitions == {"2024-01", "2024-02", "2024-03"}
        latest = reader.get_latest_materialization_event(dg.AssetKey("total"))
        assert latest is not None and latest.run_id == run_id
        check = reader.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("total"), "total_has_rows")]
        )
        assert len(check) == 1
        assert reader.get_run_by_id(run_id).is_success  # type: ignore[union-attr]
