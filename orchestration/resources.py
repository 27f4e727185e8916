"""Resources for each environment."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from assets.audit.notify import Notifier
from assets.common.landing import LandingArea
from assets.common.reports import Reports
from assets.common.warehouse import Warehouse
from assets.marts.quality_worker import QualityWorker
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
        "notifier": notifier_for(settings),
        "quality": QualityWorker(),
    }


def notifier_for(settings: Settings) -> Notifier:
    """The alert channels the settings configure; the SMTP password stays an env var reference."""
    password = "CHOKEPOINT_SMTP_PASSWORD"
    return Notifier(
        alerts_file=str(settings.alerts_path),
        webhook_url=settings.alert_webhook_url,
        webhook_kind=settings.alert_webhook_kind,
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        smtp_from=settings.smtp_from,
        smtp_to=settings.smtp_to,
        smtp_starttls=settings.smtp_starttls,
        smtp_user=settings.smtp_user,
        smtp_password=dg.EnvVar(password) if os.environ.get(password) else None,
    )
