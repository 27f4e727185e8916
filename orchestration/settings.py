"""Runtime settings read from environment variables, with repo-relative defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

REPO_ROOT = Path(__file__).resolve().parent.parent

Environment = Literal["local", "prod"]

# DuckDB's memory limit in a run's process (it spills beyond it): with the suites' worker
# beside it, a 50M-declaration build peaked at 3.85 GB (4.07 GB with 3 GB).
DUCKDB_MEMORY_LIMIT = "2.5GB"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")
    return seconds


def _port(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"{name} must be a TCP port number, not {value!r}")
    return int(value)


def _webhook_kind() -> Literal["json", "slack"]:
    kind = os.environ.get("CHOKEPOINT_ALERT_WEBHOOK_KIND", "json")
    if kind not in ("json", "slack"):
        raise ValueError(f"CHOKEPOINT_ALERT_WEBHOOK_KIND must be 'json' or 'slack', not {kind!r}")
    return kind  # type: ignore[return-value]


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads and writes; every path can be overridden by an env var."""

    environment: Environment
    data_dir: Path
    landing_dir: Path
    warehouse_path: Path
    reports_dir: Path
    dagster_home: Path
    duckdb_memory_limit: str
    # How long a run waits for another run's warehouse lock before it declines.
    lock_wait_seconds: float = 1800.0
    # Alerts: always a JSON-lines file (default `<data_dir>/alerts.jsonl`) and the log; a webhook
    # (plain JSON, or Slack's `{"text": ...}`) and SMTP e-mail when configured.
    alerts_file: Path | None = None
    alert_webhook_url: str | None = None
    alert_webhook_kind: Literal["json", "slack"] = "json"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_to: str | None = None  # comma-separated
    smtp_starttls: bool = False
    smtp_user: str | None = None  # the password is read from CHOKEPOINT_SMTP_PASSWORD at run time

    @property
    def build_path(self) -> Path:
        """The pipeline's private working database; analysts read `warehouse_path`."""
        return self.warehouse_path.with_name(self.warehouse_path.stem + ".build.duckdb")

    @property
    def alerts_path(self) -> Path:
        """The JSON-lines file every alert is appended to."""
        return self.alerts_file or self.data_dir / "alerts.jsonl"

    @classmethod
    def from_env(cls) -> Settings:
        environment = os.environ.get("CHOKEPOINT_ENV", "local")
        if environment not in ("local", "prod"):
            raise ValueError(f"CHOKEPOINT_ENV must be 'local' or 'prod', not {environment!r}")
        data_dir = _path("CHOKEPOINT_DATA_DIR", REPO_ROOT / "data")
        return cls(
            environment=environment,  # type: ignore[arg-type]
            data_dir=data_dir,
            landing_dir=_path("CHOKEPOINT_LANDING_DIR", data_dir / "landing"),
            warehouse_path=_path(
                "CHOKEPOINT_WAREHOUSE", data_dir / "warehouse" / "chokepoint.duckdb"
            ),
            reports_dir=_path("CHOKEPOINT_REPORTS_DIR", data_dir / "reports"),
            dagster_home=_path("DAGSTER_HOME", data_dir / "dagster_home"),
            duckdb_memory_limit=os.environ.get(
                "CHOKEPOINT_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT
            ),
            lock_wait_seconds=_seconds("CHOKEPOINT_LOCK_WAIT_SECONDS", 1800.0),
            alerts_file=_path("CHOKEPOINT_ALERTS_FILE", data_dir / "alerts.jsonl"),
            alert_webhook_url=os.environ.get("CHOKEPOINT_ALERT_WEBHOOK_URL") or None,
            alert_webhook_kind=_webhook_kind(),
            smtp_host=os.environ.get("CHOKEPOINT_SMTP_HOST") or None,
            smtp_port=_port("CHOKEPOINT_SMTP_PORT", 25),
            smtp_from=os.environ.get("CHOKEPOINT_SMTP_FROM") or None,
            smtp_to=os.environ.get("CHOKEPOINT_SMTP_TO") or None,
            smtp_starttls=_flag("CHOKEPOINT_SMTP_STARTTLS"),
            smtp_user=os.environ.get("CHOKEPOINT_SMTP_USER") or None,
        )
