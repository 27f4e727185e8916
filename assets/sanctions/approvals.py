"""Snapshots held for review, and the approval rows that release them.

A snapshot whose removals exceed its list's bound, or that removes an entry linked to the
warehouse, does not come into force on its own: it is held (`audit.pending_delistings` lists
what it would delist), an alert is raised and a check fails until a reviewer lands a row in
`approvals/snapshot_approvals.csv` naming the sha256 of its main file. Approval rows are checked
against their contract; a row that fails is reported in an alert and never used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.audit import alerts
from assets.common import approval_files, sql
from assets.common.contracts import ContractViolation, load_contract, validate
from assets.common.warehouse import Warehouse, table_exists
from assets.sanctions.registry import Snapshot, list_specs

CONTRACT = "snapshot_approvals"
SOURCE = "sanctions guard"

_TABLES = ("pending_delistings", "snapshot_approvals")  # sql/audit/<table>.sql


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in _TABLES:
        con.execute(sql.load("audit", table))
    alerts.create_table(con)


def approvals_path(landing_root: Path) -> Path:
    """Where reviewers land approval rows (from the contract)."""
    return approval_files.approvals_path(landing_root, CONTRACT)


@dataclass(frozen=True)
class Approval:
    """A reviewer's release of one held snapshot."""

    list_id: str
    snapshot_sha256: str
    reviewer: str
    approved_on: date
    note: str


@dataclass(frozen=True)
class ApprovalRows:
    """Approval rows that passed their contract, by (list_id, sha256), and why others did not."""

    valid: dict[tuple[str, str], Approval] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)


def read_approvals(landing_root: Path, today: date) -> ApprovalRows:
    """Read and contract-check the approval rows; a missing file means no approvals."""
    read = approval_files.read_approval_file(landing_root, CONTRACT)
    name, refused = read.name, list(read.refused)
    if read.rows is None:
        return ApprovalRows(refused=refused)
    contract = load_contract(CONTRACT)
    # one key whatever the case
    frame = read.rows.with_columns(pl.col("snapshot_sha256").str.to_lowercase())
    try:
        checked = validate(frame, contract, keep=["row"])
    except ContractViolation as error:
        return ApprovalRows(refused=[f"{name}: {error}"])
    refused += [
        f"{name} row {row}: {'; '.join(reasons)}"
        for row, reasons in checked.quarantined.select("row", "reasons").iter_rows()
    ]
    valid: dict[tuple[str, str], Approval] = {}
    registered = list_specs()
    for row in checked.valid.iter_rows(named=True):
        problems = []
        if row["list_id"] not in registered:
            problems.append(f"list_id: {row['list_id']!r} is not a registered list")
        if row["approved_on"] > today:
            problems.append(f"approved_on: {row['approved_on']} is after today ({today})")
        if problems:
            refused.append(f"{name} row {row['row']}: {'; '.join(problems)}")
            continue
        valid[(row["list_id"], row["snapshot_sha256"])] = Approval(
            row["list_id"], row["snapshot_sha256"], row["reviewer"], row["approved_on"], row["note"]
        )
    return ApprovalRows(valid=valid, refused=refused)


_LINKS = {
    ("core", "companies"): """
        select removed.entry_id,
               'company ' || companies.inn
               || coalesce(' ' || coalesce(companies.customs_name, companies.name_ru), '') as link
        from _removed_ids as removed
        inner join core.companies as companies
            on removed.scheme = 'RU_INN' and companies.inn = removed.value
        union all
        select removed.entry_id,
               'company ' || companies.inn
               || coalesce(' ' || coalesce(companies.customs_name, companies.name_ru), '') as link
        from _removed_ids as removed
        inner join core.companies as companies
            on removed.scheme = 'RU_OGRN' and companies.ogrn = removed.value
    """,
    ("core", "shipments"): """
        select removed.entry_id,
               count(*) || ' shipments to importer ' || shipments.importer_inn as link
        from _removed_ids as removed
        inner join core.shipments as shipments
            on removed.scheme = 'RU_INN' and shipments.importer_inn = removed.value
        group by removed.entry_id, shipments.importer_inn
    """,
    ("core", "entity_matches"): """
        select entry_id, 'screening match ' || party_key as link
        from core.entity_matches
        where list_id = $list and decision = 'match'
            and entry_id in (select entry_id from _removed)
    """,
    ("staging", "match_decisions"): """
        select entry_id, 'confirmed by ' || reviewer || ' for ' || party_key as link
        from staging.match_decisions
        where list_id = $list and decision = 'confirmed'
            and entry_id in (select entry_id from _removed)
    """,
}


def linked_entries(
    con: duckdb.DuckDBPyConnection, list_id: str, removed: pl.DataFrame, identifiers: pl.DataFrame
) -> dict[str, str]:
    """Removed entries linked to the warehouse as the last build left it: entry_id -> links.

    A link is a valid INN or OGRN of the entry that names a company or a shipment's importer, or a
    screening match (automatic `match`, or an analyst's `confirmed`) on the entry. Tables not
    built yet (a first build) contribute nothing.
    """
    parts = [query for table, query in _LINKS.items() if table_exists(con, *table)]
    if not parts or removed.height == 0:
        return {}
    ids = identifiers.filter(
        pl.col("entry_id").is_in(removed.get_column("entry_id").implode())
        & pl.col("scheme").is_in(["RU_INN", "RU_OGRN"])
        & pl.col("is_valid").fill_null(False)
    ).select("entry_id", "scheme", "value")
    con.register("_removed", removed.select("entry_id").to_arrow())
    con.register("_removed_ids", ids.to_arrow())
    try:
        rows = con.execute(
            "select entry_id, string_agg(distinct link, '; ' order by link) "  # noqa: S608
            f"from ({' union all '.join(parts)}) group by entry_id",
            {"list": list_id},
        ).fetchall()
    finally:
        con.unregister("_removed")
        con.unregister("_removed_ids")
    return dict(rows)


def raise_alert(
    con: duckdb.DuckDBPyConnection, severity: str, subject: str, message: str, at: datetime
) -> None:
    """Append an alert from the sanctions guard (once per cause; see `assets.audit.alerts`)."""
    alerts.raise_alert(con, SOURCE, severity, subject, message, at)


def hold(
    con: duckdb.DuckDBPyConnection,
    snapshot: Snapshot,
    removed: pl.DataFrame,
    linked: dict[str, str],
    reasons: list[str],
    at: datetime,
) -> None:
    """List what a held snapshot would delist (replacing an earlier listing of it) and alert."""
    sha256 = snapshot.files[snapshot.spec.main_part].sha256
    held_at = con.execute(
        "select min(held_at) from audit.pending_delistings where fingerprint = $fingerprint",
        {"fingerprint": snapshot.fingerprint},
    ).fetchall()[0][0]
    reason = "; ".join(reasons)
    rows = removed.select(
        pl.lit(snapshot.spec.list_id).alias("list_id"),
        pl.lit(snapshot.as_of).alias("snapshot_date"),
        pl.lit(snapshot.fingerprint).alias("fingerprint"),
        pl.lit(sha256).alias("source_sha256"),
        "entry_id",
        "name",
        pl.col("entry_id")
        .replace_strict(linked, default=None, return_dtype=pl.String)
        .alias("linked_to"),
        pl.lit(reason).alias("reason"),
        pl.lit(held_at or at).cast(pl.Datetime("us", "UTC")).alias("held_at"),
    )
    con.execute("begin transaction")
    con.execute(
        "delete from audit.pending_delistings where fingerprint = $fingerprint",
        {"fingerprint": snapshot.fingerprint},
    )
    con.register("_pending", rows.to_arrow())
    try:
        con.execute("insert into audit.pending_delistings by name select * from _pending")
    finally:
        con.unregister("_pending")
    raise_alert(
        con,
        "ERROR",
        snapshot.version,
        f"held for review, not in force: {reason}. It would delist {removed.height} entries "
        f"(audit.pending_delistings). To release it, a reviewer adds a row to "
        f"{load_contract(CONTRACT).custom['approvals_file']['landing']} with list_id "
        f"{snapshot.spec.list_id} and snapshot_sha256 {sha256}.",
        at,
    )
    con.execute("commit")


def record_approval(
    con: duckdb.DuckDBPyConnection,
    snapshot: Snapshot,
    approval: Approval,
    removed: int,
    reasons: list[str],
    at: datetime,
) -> None:
    """Keep the approval that released a snapshot and drop its pending rows (in the caller's
    transaction, with the snapshot's acceptance)."""
    con.execute(
        "insert into audit.snapshot_approvals by name select $list as list_id, "
        "$sha as snapshot_sha256, $reviewer as reviewer, $on as approved_on, $note as note, "
        "$day as snapshot_date, $fingerprint as fingerprint, $removed as entries_removed, "
        "$reason as reason, $at as applied_at",
        {
            "list": approval.list_id,
            "sha": approval.snapshot_sha256,
            "reviewer": approval.reviewer,
            "on": approval.approved_on,
            "note": approval.note,
            "day": snapshot.as_of,
            "fingerprint": snapshot.fingerprint,
            "removed": removed,
            "reason": "; ".join(reasons),
            "at": at,
        },
    )
    con.execute(
        "delete from audit.pending_delistings where fingerprint = $fingerprint",
        {"fingerprint": snapshot.fingerprint},
    )
    raise_alert(
        con,
        "INFO",
        snapshot.version,
        f"released by {approval.reviewer} (approved {approval.approved_on}): {removed} entries "
        "delisted",
        at,
    )


def drop_stale(con: duckdb.DuckDBPyConnection, held: list[str]) -> None:
    """Forget held snapshots that are no longer in the landing area or no longer held."""
    con.execute(
        "delete from audit.pending_delistings where not list_contains($held, fingerprint)",
        {"held": held},
    )


def pending_summary(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """One record per held snapshot: what it would delist and how to release it."""
    if not table_exists(con, "audit", "pending_delistings"):
        return []
    rows = con.execute(
        "select list_id || '@' || snapshot_date, source_sha256, count(*), count(linked_to), "
        "any_value(reason), min(held_at)::varchar from audit.pending_delistings "
        "group by list_id, snapshot_date, source_sha256 order by 1"
    ).fetchall()
    keys = ("snapshot", "sha256", "entries_removed", "linked_entries", "reason", "held_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


@dg.asset_check(asset=["raw", "sanctions_files"], name="no_pending_snapshots", blocking=False)
def no_pending_snapshots(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Fail (ERROR) while a snapshot is held for review: its delistings are not in force.

    ERROR because a person must act; not blocking because the snapshot in force is still the
    previous one, so everything downstream is right with it and the rest of the warehouse is
    published as usual.
    """
    with warehouse.connect() as con:
        held = pending_summary(con)
    description = "; ".join(
        f"{h['snapshot']} held: {h['reason']} (approve snapshot_sha256 {h['sha256']})" for h in held
    )
    return dg.AssetCheckResult(
        passed=not held,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description or "no snapshot held for review",
        metadata={"held": dg.MetadataValue.json(held)},
    )
