"""The CLI build's event log held open (orchestration/sqlite_storage.py) loses no event."""

import contextlib
import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.events import DagsterEventBatchMetadata
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


@dg.asset(partitions_def=MONTHS, code_version="1")
def monthly_rows() -> dg.MaterializeResult:
    """Partitioned, with metadata: its materializations carry data-version tags."""
    return dg.MaterializeResult(metadata={"rows": 12})


@dg.asset(partitions_def=MONTHS, deps=[monthly_rows])
def monthly_sums() -> None:
    """Partitioned downstream: its materializations carry input provenance."""


@dg.asset(partitions_def=MONTHS, deps=[monthly_sums])
def monthly_fails() -> None:
    """Fails every month: the months it planned are left failed."""
    raise RuntimeError("planned failure")


@dg.asset_check(asset=monthly_rows)
def monthly_rows_checked() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _stored(home: Path, run_ids: list[str]) -> dict[str, Any]:
    """What a run left in its shard and the index, without ids and times."""
    stored: dict[str, Any] = {}
    for run_id in run_ids:
        with sqlite3.connect(home / "history" / "runs" / f"{run_id}.db") as con:
            stored[run_id] = con.execute(
                "select dagster_event_type, asset_key, partition, step_key from event_logs "
                "order by id"
            ).fetchall()
    with sqlite3.connect(home / "history" / "runs" / "index.db") as con:
        stored["index"] = con.execute(
            "select dagster_event_type, asset_key, partition, step_key, run_id from event_logs "
            "order by id"
        ).fetchall()
        # each tag with the event it belongs to
        stored["tags"] = con.execute(
            "select t.asset_key, t.key, e.partition, e.dagster_event_type from asset_event_tags t "
            "join event_logs e on e.id = t.event_id order by t.event_id, t.key"
        ).fetchall()
        # each asset's entry: its last run and the event its last materialization names
        stored["assets"] = [
            (key, run_id, ts is not None, lm and _pointed(con, json.loads(lm)["storage_id"]))
            for key, run_id, ts, lm in con.execute(
                "select asset_key, last_run_id, last_materialization_timestamp, "
                "last_materialization from asset_keys order by asset_key"
            )
        ]
    return stored


def _pointed(con: sqlite3.Connection, storage_id: int) -> tuple[Any, ...]:
    return con.execute(
        "select dagster_event_type, asset_key, partition, id = (select max(id) from event_logs "
        "where asset_key = e.asset_key and dagster_event_type = e.dagster_event_type) "
        "from event_logs e where id = ?",
        [storage_id],
    ).fetchone()


def _two_runs(
    home: Path, kept_open: bool, failing_batch: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A good run and a failing one over three months; what was stored and what Dagster reads.
    `failing_batch`: writing the good run's planned events fails once, at the check's planned
    evaluation, after the planned materializations before it were written together."""
    definitions = dg.Definitions(
        assets=[monthly_rows, monthly_sums, monthly_fails],
        asset_checks=[monthly_rows_checked],
        jobs=[
            dg.define_asset_job("good", selection=["monthly_rows", "monthly_sums"]),
            dg.define_asset_job("failing", selection=["monthly_fails"]),
        ],
    )
    tags = {
        "dagster/asset_partition_range_start": "2024-01",
        "dagster/asset_partition_range_end": "2024-03",
    }
    run_ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    single_writes: list[Any] = []
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, SqliteEventLogStorage)
        dagsters_store_event = storage.store_event

        def store_event(entry: Any) -> None:  # every event written one at a time
            single_writes.append(entry.dagster_event_type)
            dagsters_store_event(entry)

        storage.store_event = store_event  # type: ignore[method-assign,assignment]
        if failing_batch:
            dagsters_prepare = storage.prepare_insert_event
            failures = [RuntimeError("the disk is full")]

            def prepare_insert_event(entry: Any) -> Any:
                planned_check = dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
                if failures and entry.dagster_event_type == planned_check:
                    raise failures.pop()
                return dagsters_prepare(entry)

            storage.prepare_insert_event = prepare_insert_event  # type: ignore[method-assign,assignment]
        for job_name, run_id in zip(["good", "failing"], run_ids, strict=True):
            job = definitions.resolve_job_def(job_name)
            with event_log_kept_open(instance, run_id) if kept_open else contextlib.nullcontext():
                job.execute_in_process(
                    instance=instance, run_id=run_id, tags=tags, raise_on_error=False
                )
        assert "DAGSTER_EVENT_BATCH_SIZE" not in os.environ  # put back as it was
        unfinished = (
            storage.get_latest_asset_partition_materialization_attempts_without_materializations
        )
        read: dict[str, Any] = {
            "materialized": instance.get_materialized_partitions(dg.AssetKey("monthly_rows")),
            "unfinished": unfinished(dg.AssetKey("monthly_fails")),
            "failed": [run.status for run in instance.get_runs()],
            "single writes": single_writes,
        }
    stored = _stored(home, run_ids)
    for run_id, name in zip(run_ids, ["good run", "failing run"], strict=True):
        stored[name] = stored.pop(run_id)
    stored["index"] = [(*row[:4], run_ids.index(row[4])) for row in stored["index"]]
    stored["assets"] = [(k, run_ids.index(r), *rest) for k, r, *rest in stored["assets"]]
    read["unfinished"] = {p: run_ids.index(r) for p, (r, _) in read["unfinished"].items()}
    return stored, read


def test_a_batch_of_asset_events_is_stored_as_dagster_stores_it_event_by_event(
    tmp_path: Path,
) -> None:
    """Planned and done materializations over months, written in batches while the shards
    are kept open, leave the same rows, tags, asset entries and partition states as Dagster's
    own writing, event by event: the failed run's months are still read as failed."""
    dagsters, dagsters_read = _two_runs(tmp_path / "dagster", kept_open=False)
    kept, kept_read = _two_runs(tmp_path / "kept", kept_open=True)
    assert kept == dagsters
    assert set(kept_read.pop("single writes")) == set(dagsters_read["single writes"]) - {
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    }  # every one of those was written in a batch
    dagsters_read.pop("single writes")
    assert kept_read == dagsters_read
    # what the comparison rests on: months planned, done, tagged, and failed
    assert kept_read["materialized"] == {"2024-01", "2024-02", "2024-03"}
    assert kept_read["unfinished"] == {"2024-01": 1, "2024-02": 1, "2024-03": 1}
    assert sum(1 for row in kept["good run"] if row[0] == "ASSET_MATERIALIZATION_PLANNED") == 6
    assert {tag[1] for tag in kept["tags"]} == {"dagster/data_version"}
    assert len(kept["tags"]) == 6  # one per month of each partitioned asset the good run made


def test_a_batch_that_fails_is_written_one_event_at_a_time_and_not_twice(tmp_path: Path) -> None:
    """Part of a batch fails: it and the rest are written event by event, and the events
    written before it are not written again (as Dagster's own fallback, the whole batch one
    event at a time, would)."""
    dagsters, _ = _two_runs(tmp_path / "dagster", kept_open=False)
    kept, read = _two_runs(tmp_path / "kept", kept_open=True, failing_batch=True)
    assert kept == dagsters
    assert read["single writes"].count(dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED) == 2


def test_a_batch_never_ended_is_written_when_the_run_is_over(tmp_path: Path) -> None:
    """Events of a batch whose last event never came (a step stopped between its months) are
    written when the run's shards are closed, as Dagster would have written them one by one."""
    run_id = str(uuid.uuid4())
    job = dg.Definitions(assets=[monthly_rows], jobs=[dg.define_asset_job("rows")]).resolve_job_def(
        "rows"
    )
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        with event_log_kept_open(instance, run_id):
            job.execute_in_process(
                instance=instance,
                run_id=run_id,
                tags={
                    "dagster/asset_partition_range_start": "2024-01",
                    "dagster/asset_partition_range_end": "2024-03",
                },
            )
        done = [
            entry
            for entry in instance.all_logs(run_id)
            if entry.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        ]
        assert len(done) == 3
        with event_log_kept_open(instance, run_id):
            for entry in done[:2]:  # a batch of three, of which the third never came
                instance.handle_new_event(
                    entry, batch_metadata=DagsterEventBatchMetadata("unended", False)
                )
            held = len(instance.all_logs(run_id))
        assert len(instance.all_logs(run_id)) == held + 2
