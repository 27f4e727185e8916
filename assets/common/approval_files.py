"""Approval files: reviewers' rows in the landing area that release something the pipeline held.

A held sanctions snapshot and a held delivery are released the same way, by a row in a CSV file
named by its contract (`approvals_file.landing`). This module reads such a file once, safely (no
link, strict UTF-8, a ragged row refused on its own), and hands back its rows as text with their
row numbers, for the caller to check against the contract; why any row or the file was not
usable is said in `refused`, never by quoting the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.common.contracts import load_contract
from assets.common.landing import RefusedFile, inside


def approvals_path(landing_root: Path, contract_id: str) -> Path:
    """Where reviewers land the contract's approval rows."""
    return landing_root / load_contract(contract_id).custom["approvals_file"]["landing"]


@dataclass(frozen=True)
class ApprovalFile:
    """The file's whole rows as text (column `row` = 1 for the first after the header)."""

    name: str
    rows: pl.DataFrame | None = None
    refused: list[str] = field(default_factory=list)


def read_approval_file(landing_root: Path, contract_id: str) -> ApprovalFile:
    """Read a contract's approvals file; a missing file means no rows."""
    contract = load_contract(contract_id)
    path = approvals_path(landing_root, contract_id)
    name = path.relative_to(landing_root).as_posix()
    try:
        inside(landing_root, path)
    except RefusedFile as refusal:
        return ApprovalFile(name, refused=[str(refusal)])
    if not path.exists():
        return ApprovalFile(name)
    try:
        text = path.read_bytes().decode("utf-8-sig")
        header, *records = list(csv.reader(io.StringIO(text, newline=""))) or [[]]
    except (UnicodeDecodeError, csv.Error) as error:
        # the error's text may quote the file; its type is enough to act on
        return ApprovalFile(
            name, refused=[f"{name}: not a UTF-8 CSV file ({type(error).__name__})"]
        )
    header = [column.strip() for column in header]
    missing = [column for column in contract.column_names if column not in header]
    if missing:
        return ApprovalFile(name, refused=[f"{name}: missing column(s) {', '.join(missing)}"])
    numbered = [(number, row) for number, row in enumerate(records, start=1) if any(row)]
    refused = [
        f"{name} row {number}: has {len(row)} fields, the header has {len(header)}"
        for number, row in numbered
        if len(row) != len(header)
    ]
    whole = [
        (number, dict(zip(header, row, strict=True)))
        for number, row in numbered
        if len(row) == len(header)
    ]
    rows = pl.DataFrame(
        {
            "row": [number for number, _ in whole],
            **{column: [record[column] for _, record in whole] for column in contract.column_names},
        },
        schema={"row": pl.Int64, **dict.fromkeys(contract.column_names, pl.String)},
    )
    return ApprovalFile(name, rows, refused)
