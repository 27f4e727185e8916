"""Dagster's long-running processes for tests: a code server, the webserver and the daemon.

Each process is started from the venv in a process group of its own, with its output in a log file;
`Services` stops every one it started (SIGTERM to the group, SIGKILL after a grace period) however
the test ends. Every wait has a deadline and fails with the tail of each process's log.

Usable with any instance config: the PostgreSQL deployment test writes `deploy/dagster.yaml` into a
DAGSTER_HOME; a test of the daemon on SQLite storage can write its own `dagster.yaml` and start
`start_daemon(services, env, module="orchestration.definitions")` the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
CODE_MODULE = "orchestration.definitions"
LOCATION = "chokepoint"

T = TypeVar("T")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, or a note that it is missing."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Service:
    """One started process and its log."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        return tail(self.log_path, lines)


@dataclass
class Services:
    """The processes a test started, stopped together on exit (a context manager)."""

    log_dir: Path
    started: list[Service] = field(default_factory=list)

    def start(
        self, name: str, argv: list[str], env: Mapping[str, str], cwd: Path | None = None
    ) -> Service:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd or self.log_dir,
                start_new_session=True,  # its own process group: its children are stopped too
            )
        service = Service(name, process, log_path)
        self.started.append(service)
        return service

    def logs(self, lines: int = 30) -> str:
        """The tail of every process's log, for a failure message."""
        parts = []
        for service in self.started:
            state = "running" if service.alive() else f"exited {service.process.returncode}"
            parts.append(f"--- {service.name} ({state}), last lines of {service.log_path}:")
            parts.append(service.tail(lines))
        return "\n".join(parts)

    def check_alive(self) -> None:
        """Fail at once, with the logs, when a process has exited."""
        dead = [s.name for s in self.started if not s.alive()]
        if dead:
            pytest.fail(f"{', '.join(dead)} exited early\n{self.logs()}", pytrace=False)

    def stop_all(self, grace: float = 10.0) -> None:
        """SIGTERM to every process group, SIGKILL to those still there after `grace` seconds."""
        for service in self.started:
            if service.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for service in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(max(0.1, deadline - time.monotonic()))
        for service in self.started:
            # also children left behind by a leader that exited (a run worker, a code process)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(5)

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()


def wait_until(
    condition: Callable[[], T | None],
    what: str,
    timeout: float,
    services: Services | None = None,
    interval: float = 0.5,
) -> T:
    """Poll `condition` until it returns a value other than None/False; fail after `timeout` s.

    An exception from `condition` counts as "not yet" and is shown if the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last = "no attempt finished"
    while True:
        try:
            result = condition()
            if result is not None and result is not False:
                return result
            last = f"last answer: {result!r}"
        except Exception as error:
            last = f"last error: {type(error).__name__}: {error}"
        if services is not None:
            services.check_alive()
        if time.monotonic() >= deadline:
            logs = services.logs() if services is not None else ""
            pytest.fail(f"{what}: not within {timeout:g} s ({last})\n{logs}", pytrace=False)
        time.sleep(interval)


def executable(name: str) -> str:
    """A console script of the venv the tests run in."""
    path = VENV_BIN / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} is not installed in {VENV_BIN} (run `uv sync`)", pytrace=False)
        return found
    return str(path)


def dagster_env(
    home: Path,
    data_dir: Path,
    environment: str = "prod",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """This process's environment without inherited CHOKEPOINT_*/DAGSTER_* settings, plus ours."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CHOKEPOINT_", "DAGSTER_"))
    }
    env.update(
        {
            "DAGSTER_HOME": str(home),
            "CHOKEPOINT_DATA_DIR": str(data_dir),
            "CHOKEPOINT_ENV": environment,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def write_dagster_home(home: Path, instance_config: Path) -> Path:
    """A DAGSTER_HOME whose dagster.yaml is the given file, byte for byte."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(instance_config, home / "dagster.yaml")
    return home


def _code_args(workspace: Path | None, module: str | None) -> list[str]:
    if (workspace is None) == (module is None):
        raise ValueError("give exactly one of workspace= and module=")
    return ["-w", str(workspace)] if workspace is not None else ["-m", str(module)]


def start_code_server(
    services: Services, env: Mapping[str, str], port: int, host: str = "127.0.0.1"
) -> Service:
    """`dagster code-server start -m orchestration.definitions` as the deployment runs it."""
    argv = [executable("dagster"), "code-server", "start", "-m", CODE_MODULE, "-a", "defs"]
    argv += ["-h", host, "-p", str(port), "--location-name", LOCATION]
    return services.start("code-server", argv, env)


def start_webserver(
    services: Services,
    env: Mapping[str, str],
    port: int,
    workspace: Path | None = None,
    module: str | None = None,
) -> Service:
    argv = [executable("dagster-webserver"), "-h", "127.0.0.1", "-p", str(port)]
    return services.start("webserver", argv + _code_args(workspace, module), env)


def start_daemon(
    services: Services,
    env: Mapping[str, str],
    workspace: Path | None = None,
    module: str | None = None,
) -> Service:
    argv = [executable("dagster-daemon"), "run", *_code_args(workspace, module)]
    return services.start("daemon", argv, env)


def wait_for_code_server(
    services: Services, port: int, host: str = "127.0.0.1", timeout: float = 60.0
) -> None:
    """Until the code server answers with its repositories (not a load error)."""
    from dagster._grpc.client import DagsterGrpcClient

    client = DagsterGrpcClient(port=port, host=host)

    def loaded() -> bool:
        answer = str(client.list_repositories())
        if "SerializableErrorInfo" in answer:
            raise RuntimeError(answer[:2000])
        return True

    wait_until(loaded, f"code server on {host}:{port} loading {CODE_MODULE}", timeout, services)


def graphql(port: int, query: str, variables: Mapping[str, Any] | None = None) -> Any:
    """POST one query to the webserver's GraphQL endpoint; its `data`."""
    body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise RuntimeError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


_LOCATIONS = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


def wait_for_webserver(
    services: Services, port: int, location: str = LOCATION, timeout: float = 60.0
) -> None:
    """Until the webserver answers and has loaded `location` without an error."""

    def up() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as reply:
            return bool(reply.status == 200)

    wait_until(up, f"webserver on 127.0.0.1:{port}", timeout, services)

    def location_loaded() -> bool:
        workspace = graphql(port, _LOCATIONS)["workspaceOrError"]
        entries = {entry["name"]: entry for entry in workspace.get("locationEntries", [])}
        entry = entries.get(location)
        if entry is None:
            raise RuntimeError(f"no location {location!r} among {sorted(entries)}")
        loaded = entry["locationOrLoadError"] or {}
        if loaded.get("__typename") == "PythonError":
            # (a webserver started before its code server watches it and loads it once it is up)
            raise RuntimeError(f"location {location!r} failed to load: {loaded.get('message')}")
        return bool(entry["loadStatus"] == "LOADED" and loaded.get("__typename"))

    wait_until(
        location_loaded,
        f"webserver loading location {location!r}",
        timeout,
        services,
        interval=2.0,
    )


def wait_for_run(services: Services, port: int, run_id: str, timeout: float = 90.0) -> str:
    """Poll the run's status through the webserver until it is finished; the final status."""
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=30)
    finished = {"SUCCESS", "FAILURE", "CANCELED"}

    def status() -> str | None:
        value = client.get_run_status(run_id).value
        return value if value in finished else None

    return wait_until(status, f"run {run_id} finishing", timeout, services, interval=1.0)
