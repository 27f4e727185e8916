"""Resources for each environment."""

from __future__ import annotations

from typing import Any

from assets.common.landing import LandingArea
from assets.common.reports import Reports
from assets.common.warehouse import Warehouse
from orchestration.settings import REPO_ROOT, Settings


def resources_for(settings: Settings) -> dict[str, Any]:
    """Local runs default to folders in the repo; prod refuses to write inside the checkout."""
    if settings.environment == "prod" and settings.data_dir.is_relative_to(REPO_ROOT):
        raise ValueError(
            "CHOKEPOINT_ENV=prod needs CHOKEPOINT_DATA_DIR outside the repository "
            f"(got {settings.data_dir})"
        )
    return {
        "warehouse": Warehouse(
            build_path=str(settings.build_path),
            published_path=str(settings.warehouse_path),
            memory_limit=settings.duckdb_memory_limit,
            lock_wait_seconds=settings.lock_wait_seconds,
        ),
        "landing": LandingArea(path=str(settings.landing_dir)),
        "reports": Reports(path=str(settings.reports_dir)),
    }
