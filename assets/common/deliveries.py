"""Deliveries that may not silently rewrite history: refused files and held redeliveries.

A file the landing area refuses (a link, a name or header that is not the contract's, a layout
that cannot be read) is recorded in `audit.refused_files` with its name and the reason, and the
rows it would have replaced stay as they were. A redelivery that would lose more rows than its
contract allows (`volume.max_row_loss_share`), a header-only file among them, is held in
`audit.held_deliveries`: the month keeps its previous rows and a blocking check stops the run
from publishing, until an approval row names the file's sha256 in
`approvals/delivery_approvals.csv` (contract `delivery_approvals`). That is also how an
intended empty month, or a correction that removes rows, is declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from assets.audit import alerts
from assets.common.approval_files import read_approval_file
from assets.common.contracts import Contract, load_contract, validate
from assets.common.sql import load, table_ref
from assets.common.warehouse import table_exists

APPROVALS = "delivery_approvals"

_TABLES = ("refused_files", "held_deliveries", "delivery_approvals")  # sql/audit/<table>.sql


class NothingDelivered(RuntimeError):
    """A dataset has no accepted delivery at all, so there is nothing to stage."""


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in _TABLES:
        con.execute(load("audit", table))


def refuse(
    con: duckdb.DuckDBPyConnection, run_id: str, dataset: str, file: str, reason: str
) -> None:
    """Record a refused file (its name and why; nothing of its content) and alert."""
    now = datetime.now(UTC)
    con.execute(
        "insert into audit.refused_files values ($run, $dataset, $file, $reason, $at)",
        {"run": run_id, "dataset": dataset, "file": file, "reason": reason, "at": now},
    )
    alerts.raise_alert(con, f"ingest {dataset}", "ERROR", file, f"refused: {reason}", now)


@dataclass(frozen=True)
class Approval:
    """A reviewer's release of one delivery, by the sha256 of its bytes."""

    dataset: str
    file: str
    sha256: str
    approved_by: str
    approved_on: date
    note: str


def approvals(landing_root: Path) -> tuple[list[Approval], list[str]]:
    """Valid approval rows, and a description of each row (or the file) that cannot be used."""
    read = read_approval_file(landing_root, APPROVALS)
    if read.rows is None:
        return [], read.refused
    checked = validate(read.rows, load_contract(APPROVALS), keep=["row"])
    refused = read.refused + [
        f"{read.name} row {row['row']}: {'; '.join(row['reasons'])}"
        for row in checked.quarantined.iter_rows(named=True)
    ]
    valid = [
        Approval(
            row["dataset"],
            row["file"],
            row["sha256"],
            row["approved_by"],
            row["approved_on"],
            row["note"],
        )
        for row in checked.valid.iter_rows(named=True)
    ]
    return valid, refused


def apply_approval(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    approval: Approval,
    previous: int,
    delivered: int,
) -> None:
    """Keep, beside the rows it let in, the approval that released a delivery losing rows."""
    con.execute(
        "insert into audit.delivery_approvals values ($dataset, $file, $sha256, $by, $on, "
        "$note, $run, $previous, $delivered, $at)",
        {
            "dataset": approval.dataset,
            "file": approval.file,
            "sha256": approval.sha256,
            "by": approval.approved_by,
            "on": approval.approved_on,
            "note": approval.note,
            "run": run_id,
            "previous": previous,
            "delivered": delivered,
            "at": datetime.now(UTC),
        },
    )


def previous_rows(
    con: duckdb.DuckDBPyConnection, contract: Contract, month: str | None, partition_column: str
) -> int:
    """Rows the file's month (or the whole dataset) holds in `raw` from earlier deliveries."""
    if not table_exists(con, "raw", contract.id):
        return 0
    target = table_ref("raw", contract.id)
    if month is None:
        rows = con.execute(f"select count(*) from {target}").fetchall()  # noqa: S608
    else:
        rows = con.execute(
            f"select count(*) from {target} where {partition_column} = $month",  # noqa: S608
            {"month": month},
        ).fetchall()
    return int(rows[0][0])


def loss_reason(contract: Contract, file: str, previous: int, delivered: int) -> str | None:
    """Why a redelivery is held, or None when its row count is within the contract's bound."""
    share = float(contract.custom.get("volume", {}).get("max_row_loss_share", 0.05))
    if previous == 0 or delivered >= previous * (1 - share):
        return None
    approvals_file = load_contract(APPROVALS).custom["approvals_file"]["landing"]
    return (
        f"{file}: {delivered} rows where {previous} were loaded before, a loss of "
        f"{1 - delivered / previous:.1%} (the contract allows {share:.0%}); the previous rows "
        f"stay until the delivery's sha256 is approved in {approvals_file}"
    )


def hold(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    dataset: str,
    file: str,
    sha256: str,
    previous: int,
    delivered: int,
    reason: str,
) -> None:
    """Record a held redelivery and alert."""
    alerts.raise_alert(
        con, f"ingest {dataset}", "ERROR", file, f"held: {reason}", datetime.now(UTC)
    )
    con.execute(
        "insert into audit.held_deliveries values "
        "($run, $dataset, $file, $sha256, $previous, $delivered, $reason, $at)",
        {
            "run": run_id,
            "dataset": dataset,
            "file": file,
            "sha256": sha256,
            "previous": previous,
            "delivered": delivered,
            "reason": reason,
            "at": datetime.now(UTC),
        },
    )


def of_run(
    con: duckdb.DuckDBPyConnection, table: str, run_id: str, dataset: str
) -> list[tuple[str, str]]:
    """(file, reason) of the refused or held deliveries a run recorded for a dataset."""
    create_tables(con)
    return [
        (str(file), str(reason))
        for file, reason in con.execute(
            f"select file, reason from {table_ref('audit', table)} "  # noqa: S608
            "where run_id = $run and dataset = $dataset order by file",
            {"run": run_id, "dataset": dataset},
        ).fetchall()
    ]
