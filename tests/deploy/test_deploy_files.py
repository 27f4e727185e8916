"""Cheap checks of the files in deploy/: they load, and they agree with each other.

No server is started here (test_postgres_deployment.py runs them); Docker and systemd are not run.
"""

from __future__ import annotations

import configparser
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from servers import DEPLOY_DIR, LOCATION

DAGSTER_YAML = DEPLOY_DIR / "dagster.yaml"
WORKSPACE_YAML = DEPLOY_DIR / "workspace.yaml"
COMPOSE_YAML = DEPLOY_DIR / "compose.yaml"
ENV_EXAMPLE = DEPLOY_DIR / "systemd" / "env.example"
UNITS = {
    "chokepoint-code-server.service": "dagster code-server start -m orchestration.definitions",
    "chokepoint-webserver.service": "dagster-webserver",
    "chokepoint-daemon.service": "dagster-daemon run",
}
DAGSTER_SERVICES = ("code-server", "webserver", "daemon")

SAMPLE_ENV = {
    "DAGSTER_PG_HOST": "db.example.org",
    "DAGSTER_PG_PORT": "5433",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "p@ss word",
    "DAGSTER_PG_DB": "dagster_prod",
    "DAGSTER_COMPUTE_LOG_DIR": "/var/lib/chokepoint/compute_logs",
    "DAGSTER_CODE_SERVER_HOST": "code.example.org",
    "DAGSTER_CODE_SERVER_PORT": "4001",
}


def env_references(node: Any) -> Iterator[str]:
    """Every `{env: NAME}` in a parsed YAML document."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            yield str(node["env"])
        for value in node.values():
            yield from env_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from env_references(value)


def referenced_variables() -> set[str]:
    documents = [yaml.safe_load(path.read_text()) for path in (DAGSTER_YAML, WORKSPACE_YAML)]
    return {name for document in documents for name in env_references(document)}


def env_file_keys(path: Path) -> set[str]:
    keys = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.add(line.split("=", 1)[0])
    return keys


@pytest.fixture
def sample_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in SAMPLE_ENV.items():
        monkeypatch.setenv(key, value)
    return SAMPLE_ENV


def test_the_configs_read_exactly_the_sample_variables() -> None:
    assert referenced_variables() == set(SAMPLE_ENV)


def test_dagster_yaml_is_a_valid_postgres_instance(sample_env: dict[str, str]) -> None:
    from dagster import QueuedRunCoordinator
    from dagster._config import process_config, resolve_to_config_type
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.storage.config import pg_config
    from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
    from dagster_postgres.utils import pg_url_from_config

    ref = InstanceRef.from_dir(str(DEPLOY_DIR))  # validates the file against Dagster's schema
    storage = ref.storage_data
    assert storage is not None
    assert (storage.module_name, storage.class_name) == (
        "dagster_postgres",
        "DagsterPostgresStorage",
    )
    resolved = process_config(resolve_to_config_type(pg_config()), storage.config_dict)
    assert resolved.success and resolved.value is not None, resolved.errors
    assert pg_url_from_config(resolved.value) == (
        "postgresql+psycopg2://dagster:p%40ss%20word@db.example.org:5433/dagster_prod"
    )
    assert ref.run_coordinator_data is not None
    assert isinstance(ref.run_coordinator_data.rehydrate(), QueuedRunCoordinator)
    compute_logs = ref.compute_logs_data.rehydrate()
    assert isinstance(compute_logs, LocalComputeLogManager)
    assert compute_logs._base_dir == sample_env["DAGSTER_COMPUTE_LOG_DIR"]
    assert ref.settings["telemetry"] == {"enabled": False}
    assert ref.settings["run_retries"] == {
        "enabled": True,
        "max_retries": 1,
        "retry_on_asset_or_op_failure": False,
    }
    assert ref.settings["run_monitoring"] == {
        "enabled": True,
        "start_timeout_seconds": 300,
        "max_runtime_seconds": 21600,
    }


def test_the_team_and_local_instances_share_queue_retry_and_monitoring_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration import cli
    from orchestration.settings import Settings

    settings = Settings.from_env()
    local_home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(local_home))  # restored afterwards
    cli.prepare_dagster_home(replace(settings, dagster_home=local_home))
    local = yaml.safe_load((local_home / "dagster.yaml").read_text())
    team = yaml.safe_load(DAGSTER_YAML.read_text())
    for section in ("concurrency", "run_retries", "run_monitoring"):
        assert local[section] == team[section], section
    assert team["concurrency"]["runs"]["max_concurrent_runs"] == 1


def test_workspace_yaml_names_the_code_server(sample_env: dict[str, str]) -> None:
    from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    [origin] = location_origins_from_yaml_paths([str(WORKSPACE_YAML)])
    assert isinstance(origin, GrpcServerCodeLocationOrigin)
    assert (origin.location_name, origin.host, origin.port) == (LOCATION, "code.example.org", 4001)


def test_compose_runs_the_four_services_with_every_setting() -> None:
    compose = yaml.safe_load(COMPOSE_YAML.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", *DAGSTER_SERVICES}
    command = " ".join(services["code-server"]["command"])
    assert "code-server start -m orchestration.definitions -a defs" in command
    for name in DAGSTER_SERVICES:
        environment = services[name]["environment"]
        assert referenced_variables() <= set(environment), name
        data_dir = environment["CHOKEPOINT_DATA_DIR"]
        mounts = {volume.split(":")[1] for volume in services[name]["volumes"]}
        assert data_dir in mounts, f"{name} does not mount the data volume at {data_dir}"
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    for name in ("webserver", "daemon"):
        assert "/opt/dagster/home/workspace.yaml" in services[name]["command"]
        assert services[name]["depends_on"]["code-server"]["condition"] == "service_healthy"


def test_dockerfile_installs_the_locked_runtime_dependencies() -> None:
    dockerfile = (DEPLOY_DIR / "Dockerfile").read_text()
    assert "uv sync --locked --no-dev" in dockerfile
    assert "COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/home/" in dockerfile


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_systemd_unit_reads_the_env_file(unit: str) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY_DIR / "systemd" / unit)
    service = parser["Service"]
    assert service["EnvironmentFile"] == "/etc/chokepoint/env"
    assert UNITS[unit] in service["ExecStart"]
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_env_example_sets_every_variable_the_deployment_reads() -> None:
    keys = env_file_keys(ENV_EXAMPLE)
    assert referenced_variables() <= keys
    assert {"DAGSTER_HOME", "CHOKEPOINT_DATA_DIR", "CHOKEPOINT_ENV"} <= keys
    units = " ".join((DEPLOY_DIR / "systemd" / unit).read_text() for unit in UNITS)
    for used in ("DAGSTER_WEBSERVER_HOST", "DAGSTER_WEBSERVER_PORT"):
        assert "${" + used + "}" in units and used in keys
