"""Alerts: one table that says what needs a person, whichever step noticed it.

A held sanctions snapshot, a rejected one, a held or refused delivery: each appends a row to
`audit.alerts` (when, how severe, which step, about what, what happened). An alert is raised
once: the same source, subject and message are not repeated on every run while the cause stands.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from assets.common import sql


def create_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(sql.load("audit", "alerts"))


def raise_alert(
    con: duckdb.DuckDBPyConnection,
    source: str,
    severity: str,
    subject: str,
    message: str,
    at: datetime,
) -> None:
    """Append an alert unless the same one was raised before."""
    create_table(con)
    con.execute(
        "insert into audit.alerts by name "
        "select $at as raised_at, $severity as severity, $source as source, "
        "$subject as subject, $message as message "
        "where not exists (select 1 from audit.alerts where source = $source "
        "and subject = $subject and message = $message)",
        {"at": at, "severity": severity, "source": source, "subject": subject, "message": message},
    )
