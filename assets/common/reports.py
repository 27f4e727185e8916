"""Where each run's reports (manifest, HTML report, Data Docs) are written for auditors."""

import dagster as dg


class Reports(dg.ConfigurableResource):  # type: ignore[misc]
    """Folder for the auditor's reports."""

    path: str
