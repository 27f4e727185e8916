"""A throwaway PostgreSQL server on 127.0.0.1 for tests, started from the binaries in `pgserver`.

`pgserver` (a dev dependency) ships PostgreSQL's binaries in a wheel, so `uv sync` is all a
machine needs. Its own `get_server()` is not used: it listens on a Unix socket only, and when run
as root it creates a system user with `useradd` and widens the permissions of every parent folder
of its data dir. This module runs `initdb` and `postgres` itself instead, on a free TCP port, with
password authentication (so the DAGSTER_PG_PASSWORD setting is really exercised).

PostgreSQL refuses to run as root. Under root (as on CI) the server runs as the unprivileged
`nobody` account (`CHOKEPOINT_TEST_PG_USER` names another), in a temporary folder of its own
outside pytest's root-only tmp dirs. The binaries are copied there too when that account cannot
reach them where the venv keeps them. Debian's binaries (`/usr/lib/postgresql/*/bin`) are the
fallback when `pgserver` is not installed.

When no server can be started the test is skipped with the reason; under CI (`CI` set) it fails
instead, so that a broken set-up is not hidden behind a skip.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import psycopg2
import pytest
from servers import free_port, tail

HOST = "127.0.0.1"
SUPERUSER = "chokepoint"
DATABASE = "dagster"


@dataclass(frozen=True)
class Postgres:
    """Where a running server listens and how to log in."""

    host: str
    port: int
    user: str
    password: str
    db_name: str
    log_path: Path

    def connect(self, db_name: str | None = None) -> Any:
        """A psycopg2 connection (autocommit) to the server's database."""
        con = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=db_name or self.db_name,
            connect_timeout=5,
        )
        con.autocommit = True
        return con

    @property
    def dagster_env(self) -> dict[str, str]:
        """The variables `deploy/dagster.yaml` reads its connection settings from."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.db_name,
        }

    def log_tail(self, lines: int = 20) -> str:
        return tail(self.log_path, lines)


def _unavailable(reason: str) -> NoReturn:
    message = f"no PostgreSQL server for the deployment test: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _pgserver_bin() -> Path | None:
    """pgserver's `pginstall/bin`, found without importing it (its import has side effects)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    binaries = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return binaries if (binaries / "postgres").is_file() else None


def _debian_bin() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    found = [c for c in candidates if (c / "postgres").is_file() and (c / "initdb").is_file()]
    return found[-1] if found else None


@dataclass(frozen=True)
class _Account:
    uid: int
    gid: int
    name: str

    def popen_args(self) -> dict[str, Any]:
        if self.uid == os.geteuid():
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _account() -> _Account:
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return _Account(entry.pw_uid, entry.pw_gid, entry.pw_name)
    name = os.environ.get("CHOKEPOINT_TEST_PG_USER", "nobody")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        _unavailable(f"running as root and there is no account {name!r} to run PostgreSQL as")
    return _Account(entry.pw_uid, entry.pw_gid, entry.pw_name)


def _run(argv: list[str], account: _Account, env: dict[str, str], timeout: float) -> str:
    """Run a PostgreSQL tool as `account`; its combined output, or an error naming the output."""
    done = subprocess.run(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        timeout=timeout,
        check=False,
        **account.popen_args(),
    )
    output = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} exited {done.returncode}:\n{output[-2000:]}")
    return output


def _usable_bin(bin_dir: Path, workdir: Path, account: _Account, env: dict[str, str]) -> Path:
    """`bin_dir`, or a copy of its install tree in `workdir` when `account` cannot run it there."""
    try:
        _run([str(bin_dir / "postgres"), "--version"], account, env, timeout=30)
        return bin_dir
    except (RuntimeError, PermissionError, OSError):
        pass
    install = bin_dir.parent
    # The same layout as in site-packages: the binaries find their vendored libraries (libpq,
    # in `pgserver.libs`) by RPATH `$ORIGIN/../../../pgserver.libs`.
    site = workdir / "site"
    copy = site / install.parent.name / install.name
    for part in ("bin", "lib", "share"):
        if (install / part).is_dir():
            shutil.copytree(install / part, copy / part, symlinks=True)
    vendored = install.parent.parent / f"{install.parent.name}.libs"
    if vendored.is_dir():
        shutil.copytree(vendored, site / vendored.name, symlinks=True)
    for folder in [site, *(p for p in site.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    _run([str(copy / "bin" / "postgres"), "--version"], account, env, timeout=30)
    return copy / "bin"


def _stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Fast shutdown (SIGINT), then SIGKILL to the whole process group after `grace` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


@contextlib.contextmanager
def running_postgres(start_timeout: float = 30.0) -> Iterator[Postgres]:
    """Start a fresh server with a `dagster` database; stop it and delete its files on exit."""
    bin_dir = _pgserver_bin() or _debian_bin()
    if bin_dir is None:
        _unavailable("neither pgserver (a dev dependency: run `uv sync`) nor Debian's postgresql")
    account = _account()
    workdir = Path(tempfile.mkdtemp(prefix="chokepoint-pg-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        workdir.chmod(0o755)  # the server's account must reach its data dir inside
        pgdata = workdir / "pgdata"
        pgdata.mkdir(mode=0o700)
        os.chown(pgdata, account.uid, account.gid)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        env["HOME"] = str(workdir)
        password = secrets.token_hex(12)
        pwfile = workdir / "pwfile"
        pwfile.write_text(password + "\n", encoding="utf-8")
        os.chown(pwfile, account.uid, account.gid)
        pwfile.chmod(0o600)
        try:
            binaries = _usable_bin(bin_dir, workdir, account, env)
            _run(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                account,
                env,
                timeout=60,
            )
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
            _unavailable(f"initdb with {bin_dir} as {account.name!r} failed: {error}")
        log_path = workdir / "postgres.log"
        last_error = ""
        for _attempt in range(3):  # another process may take the free port before we bind it
            port = free_port()
            with open(log_path, "ab") as log:
                process = subprocess.Popen(
                    [
                        str(binaries / "postgres"),
                        "-D",
                        str(pgdata),
                        "-c",
                        f"listen_addresses={HOST}",
                        "-c",
                        f"port={port}",
                        "-c",
                        "unix_socket_directories=",
                        # a test database: durability is not needed, speed is
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                    **account.popen_args(),
                )
            server = Postgres(HOST, port, SUPERUSER, password, DATABASE, log_path)
            deadline = time.monotonic() + start_timeout
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    server.connect("postgres").close()
                    break
                except psycopg2.OperationalError as error:
                    last_error = str(error).strip()
                    time.sleep(0.2)
            else:
                _stop(process)
                process = None
                continue
            with contextlib.closing(server.connect("postgres")) as con, con.cursor() as cur:
                cur.execute(f"create database {DATABASE}")
            yield server
            return
        _unavailable(
            f"postgres did not accept connections ({last_error}); its log:\n{tail(log_path)}"
        )
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)
