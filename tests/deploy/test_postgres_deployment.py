"""The team deployment for real: `deploy/dagster.yaml` on a PostgreSQL server, with a code server,
the webserver and the daemon as separate processes, as `deploy/compose.yaml` and the systemd units
run them.

A run is submitted through the webserver's GraphQL API; the daemon's queued-run coordinator
dequeues it and the code server launches it. The test checks that it succeeds and that its record
and events are in PostgreSQL. About 50 s on an idle 2-core machine, most of it Python start-up
(the code server and each run process import the code location).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from local_postgres import Postgres, running_postgres
from servers import (
    DEPLOY_DIR,
    LOCATION,
    Services,
    dagster_env,
    free_port,
    start_code_server,
    start_daemon,
    start_webserver,
    wait_for_code_server,
    wait_for_run,
    wait_for_webserver,
    write_dagster_home,
)

pytestmark = pytest.mark.e2e  # builds of its own: `make test-e2e`

WORKSPACE = DEPLOY_DIR / "workspace.yaml"
# A small, quick selection of the project's job: the inventory of the (empty) landing folder.
JOB = "build_everything"
ASSETS = [["audit", "landing_files"]]
WRITES_TAG = {"chokepoint/writes": "warehouse"}


@dataclass(frozen=True)
class Deployment:
    postgres: Postgres
    home: Path
    data_dir: Path
    compute_logs: Path
    env: dict[str, str]
    services: Services
    webserver_port: int


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deployment")
    # Exit order: the Dagster processes stop first, then PostgreSQL, whatever happened.
    with running_postgres() as postgres, Services(root / "logs") as services:
        home = write_dagster_home(root / "dagster_home", DEPLOY_DIR / "dagster.yaml")
        data_dir = root / "data"
        (data_dir / "landing").mkdir(parents=True)
        compute_logs = root / "compute_logs"
        code_port, webserver_port = free_port(), free_port()
        env = dagster_env(
            home,
            data_dir,
            environment="prod",
            extra={
                **postgres.dagster_env,
                "DAGSTER_COMPUTE_LOG_DIR": str(compute_logs),
                "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
                "DAGSTER_CODE_SERVER_PORT": str(code_port),
            },
        )
        # The webserver loads alongside the code server (it reloads the location if it was
        # first); the daemon starts once the code server answers, as compose's health check
        # orders it: a daemon that found no code server keeps that error for up to a minute.
        start_code_server(services, env, code_port)
        start_webserver(services, env, webserver_port, workspace=WORKSPACE)
        wait_for_code_server(services, code_port, timeout=90)
        start_daemon(services, env, workspace=WORKSPACE)
        wait_for_webserver(services, webserver_port, timeout=60)
        yield Deployment(postgres, home, data_dir, compute_logs, env, services, webserver_port)


def test_instance_uses_postgres_and_the_run_queue(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterInstance, QueuedRunCoordinator
    from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    for key, value in deployment.env.items():
        if key.startswith(("DAGSTER_", "CHOKEPOINT_")):
            monkeypatch.setenv(key, value)
    with DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert isinstance(instance.compute_log_manager, LocalComputeLogManager)
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None
        assert queue.max_concurrent_runs == 1
        assert [(t["key"], t["value"], t["limit"]) for t in queue.tag_concurrency_limits] == [
            ("chokepoint/writes", "warehouse", 1)
        ]
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 1
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert not instance.telemetry_enabled


def test_queued_run_succeeds_and_is_recorded_in_postgres(deployment: Deployment) -> None:
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment.webserver_port, timeout=30)
    run_id = client.submit_job_execution(
        JOB,
        repository_location_name=LOCATION,
        asset_selection=ASSETS,
        tags=WRITES_TAG,
    )
    status = wait_for_run(deployment.services, deployment.webserver_port, run_id, timeout=90)
    assert status == "SUCCESS", f"run {run_id} ended {status}\n{deployment.services.logs(lines=60)}"

    with contextlib.closing(deployment.postgres.connect()) as con, con.cursor() as cur:
        cur.execute("select pipeline_name, status from runs where run_id = %s", (run_id,))
        assert cur.fetchall() == [(JOB, "SUCCESS")]
        cur.execute(
            "select key, value from run_tags where run_id = %s and key = %s",
            (run_id, "chokepoint/writes"),
        )
        assert cur.fetchall() == [("chokepoint/writes", "warehouse")]
        cur.execute(
            "select distinct dagster_event_type from event_logs where run_id = %s", (run_id,)
        )
        events = {row[0] for row in cur.fetchall()}
    # queued by the webserver, then started (only the daemon's run queue starts a queued run)
    assert {"PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_SUCCESS"} <= events, events
    assert "ASSET_MATERIALIZATION" in events, events

    # the run worker (started by the code server) read CHOKEPOINT_DATA_DIR and the compute log dir
    assert (deployment.data_dir / "warehouse" / "chokepoint.build.duckdb").is_file()
    assert any(run_id in str(path) for path in deployment.compute_logs.rglob("*")), (
        f"no compute log of run {run_id} under {deployment.compute_logs}"
    )
