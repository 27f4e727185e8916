"""Runtime settings read from environment variables, with repo-relative defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

REPO_ROOT = Path(__file__).resolve().parent.parent

Environment = Literal["local", "prod"]


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

    @property
    def build_path(self) -> Path:
        """The pipeline's private working database; analysts read `warehouse_path`."""
        return self.warehouse_path.with_name(self.warehouse_path.stem + ".build.duckdb")

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
            duckdb_memory_limit=os.environ.get("CHOKEPOINT_DUCKDB_MEMORY_LIMIT", "3GB"),
            lock_wait_seconds=_seconds("CHOKEPOINT_LOCK_WAIT_SECONDS", 1800.0),
        )
