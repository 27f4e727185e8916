"""What a run read, what it checked and what it wrote, for the auditor's manifest and report."""

import hashlib
import json
import subprocess
from typing import Any

import dagster as dg
import duckdb

from assets.common.paths import REPO_ROOT
from assets.common.sql import table_ref
from assets.common.table_sums import checksummed_tables
from assets.common.warehouse import table_exists

_RAW_WITH_FILES = """
select table_name from duckdb_columns()
where schema_name = 'raw' and column_name = 'source_sha256'
order by 1
"""
# Published trade statistics are parsed straight from their files by a format parser (no raw
# copy): their staging table carries the provenance, and its rows are all the file's records
# (the totals_match_files check recounts them).
_STAGED_WITHOUT_RAW = """
select table_name from duckdb_columns()
where schema_name = 'staging' and column_name = 'source_sha256'
and table_name not in (
    select table_name from duckdb_columns()
    where schema_name = 'raw' and column_name = 'source_sha256'
)
order by 1
"""


def inputs(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every landed file in `raw`: sha256, rows received, staged and quarantined."""
    found: list[dict[str, Any]] = []
    for (table,) in con.execute(_RAW_WITH_FILES).fetchall():
        raw = table_ref("raw", table)
        received = con.execute(
            f"select source_file, min(source_sha256), count(*) from {raw} "  # noqa: S608
            "group by source_file order by source_file"
        ).fetchall()
        per_layer: dict[str, dict[str, int]] = {}
        for layer in ("staging", "quarantine"):
            if table_exists(con, layer, table):
                per_layer[layer] = dict(
                    con.execute(
                        f"select source_file, count(*) from {table_ref(layer, table)} "  # noqa: S608
                        "group by source_file"
                    ).fetchall()
                )
        for file, sha256, rows in received:
            item: dict[str, Any] = {"dataset": table, "file": file, "sha256": sha256, "rows": rows}
            if per_layer:
                item["staged"] = per_layer.get("staging", {}).get(file, 0)
                item["quarantined"] = per_layer.get("quarantine", {}).get(file, 0)
            found.append(item)
    for (table,) in con.execute(_STAGED_WITHOUT_RAW).fetchall():
        staged = con.execute(
            f"select source_file, min(source_sha256), count(*) from {table_ref('staging', table)} "  # noqa: S608
            "group by source_file order by source_file"
        ).fetchall()
        found += [
            {
                "dataset": table,
                "file": file,
                "sha256": sha256,
                "rows": rows,
                "staged": rows,
                "quarantined": 0,
            }
            for file, sha256, rows in staged
        ]
    return found


class PublicationMismatch(RuntimeError):
    """The file about to be published is not the warehouse the run recorded."""


def table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every checksummed table (from DuckDB's metadata: no scan)."""
    return {
        f"{schema}.{table}": int(
            con.execute(f"select count(*) from {table_ref(schema, table)}").fetchall()[0][0]  # noqa: S608
        )
        for schema, table in checksummed_tables(con)
    }


def verify_build_file(
    con: duckdb.DuckDBPyConnection, run_id: str, expected: dict[str, dict[str, Any]]
) -> None:
    """Raise unless the closed build file holds the run's publication record and every table.

    `expected` (the manifest) was computed from this file, closed and opened read-only, before
    the publication record was written into it; that record must hold the same checksums, and
    every table must still have the rows the manifest counted.
    """
    recorded = (
        con.execute(
            "select table_checksums from audit.publications where run_id = $run", {"run": run_id}
        ).fetchall()
        if table_exists(con, "audit", "publications")
        else []
    )
    if len(recorded) != 1:
        raise PublicationMismatch(
            f"the build file to publish holds {len(recorded)} publication records of run {run_id}, "
            "not 1; the published warehouse was left as it was"
        )
    recorded_sums = json.loads(recorded[0][0])
    rows = table_rows(con)
    differing = sorted(
        table
        for table in expected.keys() | rows.keys() | recorded_sums.keys()
        if rows.get(table) != (expected.get(table) or {}).get("rows")
        or recorded_sums.get(table) != (expected.get(table) or {}).get("checksum")
    )
    if differing:
        shown = ", ".join(differing[:20])
        if len(differing) > 20:
            shown += f" and {len(differing) - 20} more"
        raise PublicationMismatch(
            f"the build file to publish differs from run {run_id}'s manifest in {len(differing)} "
            f"table(s): {shown}; the published warehouse was left as it was"
        )


def code_version() -> dict[str, Any]:
    """Git commit (and whether the tree had changes) and the lock file's sha256."""
    version: dict[str, Any] = {"git_commit": None, "git_dirty": None}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        version.update(git_commit=commit, git_dirty=bool(dirty))
    except (OSError, subprocess.CalledProcessError):
        pass
    lock = REPO_ROOT / "uv.lock"
    version["uv_lock_sha256"] = (
        hashlib.sha256(lock.read_bytes()).hexdigest() if lock.exists() else None
    )
    return version


def list_versions(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    """Sanctions snapshots and control measures (staging.control_measures) the run read."""
    out: dict[str, list[dict[str, Any]]] = {"sanctions": [], "control_lists": []}
    if table_exists(con, "core", "sanctions_snapshots"):
        for list_id, day, sha256, parser, entries in con.execute(
            "select list_id, snapshot_date::varchar, source_sha256, parser_version, entries "
            "from core.sanctions_snapshots order by list_id, snapshot_date"
        ).fetchall():
            out["sanctions"].append(
                {
                    "list": list_id,
                    "snapshot": day,
                    "sha256": sha256,
                    "parser": parser,
                    "entries": entries,
                }
            )
    if table_exists(con, "staging", "control_measures"):
        for measure, jurisdiction, announced, effective, codes in con.execute(
            "select measure_id, jurisdiction, announced_on::varchar, effective_from::varchar, "
            "count(distinct hs6) from staging.control_measures group by all order by 4, 1"
        ).fetchall():
            out["control_lists"].append(
                {
                    "measure": measure,
                    "jurisdiction": jurisdiction,
                    "announced_on": announced,
                    "effective_from": effective,
                    "hs6_codes": codes,
                }
            )
    return out


def check_results(context: dg.AssetExecutionContext) -> list[dict[str, Any]]:
    """Every asset check evaluated for the warehouse this run publishes, with its outcome.

    A re-execution ("from failure") publishes what its parent's steps built as well: the checks
    of the runs it re-executes count too, each check's latest outcome (this run's when it
    evaluated the check again).
    """
    lineage: list[str] = []
    run: Any = context.run
    while run is not None and len(lineage) < 100:
        lineage.append(run.run_id)
        parent = run.parent_run_id
        run = context.instance.get_run_by_id(parent) if parent else None
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for run_id in reversed(lineage):  # the oldest first: later outcomes replace earlier ones
        records = context.instance.all_logs(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
        for record in records:
            event = record.dagster_event
            if event is None:
                continue
            evaluation = event.event_specific_data
            asset = evaluation.asset_key.to_user_string()  # type: ignore[union-attr]
            check = evaluation.check_name  # type: ignore[union-attr]
            latest[(asset, check)] = {
                "asset": asset,
                "check": check,
                "passed": evaluation.passed,  # type: ignore[union-attr]
                "severity": evaluation.severity.value,  # type: ignore[union-attr]
                "description": evaluation.description or "",  # type: ignore[union-attr]
            }
    return [latest[key] for key in sorted(latest)]


def expectation_results(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Great Expectations results on the marts (from audit.mart_quality), when it ran."""
    if not table_exists(con, "audit", "mart_quality"):
        return []
    # a table from before validations by month has no validated_months: it validated all
    rows = con.execute(
        "select dataset, expectation, target_column, success, unexpected, "
        "coalesce(validated_months, 'all') from (select * from audit.mart_quality "
        "union all by name select null::varchar as validated_months where false) order by all"
    ).fetchall()
    keys = ("dataset", "expectation", "column", "success", "unexpected", "validated_months")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def overall_status(checks: list[dict[str, Any]], expectations: list[dict[str, Any]]) -> str:
    """`fail` if a check of severity ERROR failed, `warn` if a WARN check or an expectation did."""
    if any(not c["passed"] and c["severity"] != "WARN" for c in checks):
        return "fail"
    if any(not c["passed"] for c in checks) or any(not e["success"] for e in expectations):
        return "warn"
    return "pass"
