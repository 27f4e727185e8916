"""Publication: the last step of a build records what it made and publishes it for readers."""

import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from assets.audit import findings
from assets.audit import manifest as runs
from assets.audit.report import render
from assets.common import sql, table_sums
from assets.common.reports import Reports
from assets.common.warehouse import PUBLICATION_KEY, Warehouse, log_step
from assets.marts.quality_worker import QualityWorker

PUBLISH_RETRIES = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL)


def forget_attempt(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Remove the publication rows an earlier attempt of this run wrote (a retry starts clean)."""
    con.execute("delete from audit.publications where run_id = $run", {"run": run_id})
    con.execute(
        "delete from audit.step_log where run_id = $run and asset_key = $asset",
        {"run": run_id, "asset": PUBLICATION_KEY.to_user_string()},
    )


def publication_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publish step, downstream of every table so that it runs last."""

    @dg.asset(
        key=PUBLICATION_KEY,
        deps=upstream,
        group_name="audit",
        kinds={"duckdb", "html"},
        # Checkpointing, linking and renaming files can fail for a moment (a full or busy disk,
        # a network share); each attempt first removes what an earlier attempt of this run
        # recorded, and an attempt after the rename only writes the reports.
        retry_policy=PUBLISH_RETRIES,
    )
    def publications(
        context: dg.AssetExecutionContext,
        warehouse: Warehouse,
        reports: Reports,
        quality: QualityWorker,
    ) -> dg.MaterializeResult:
        """Record inputs, versions, checks and table checksums, then publish the warehouse."""
        folder = Path(reports.path) / "runs" / context.run.run_id
        folder.mkdir(parents=True, exist_ok=True)
        # Written before the build file is renamed into place, so that a retry after the rename
        # (the reports below failed) can finish from it instead of rebuilding a manifest.
        pending = folder / "manifest.pending.json"
        if warehouse.published_by(context.run.run_id) and pending.exists():
            manifest = json.loads(pending.read_text(encoding="utf-8"))
            published = Path(warehouse.published_path)
        else:
            manifest = _record(context, warehouse)
            pending.write_text(json.dumps(manifest), encoding="utf-8")
            # The closed file is opened again and checked before it is published.
            published = warehouse.publish(
                partial(
                    runs.verify_build_file, run_id=context.run.run_id, expected=manifest["tables"]
                )
            )
        # the Great Expectations worker has been writing the Data Docs the report links to
        quality.wait_for_docs(str(published), warehouse.memory_limit)
        text = json.dumps(manifest, indent=2)
        # the run's own copy links up to the reports folder; the latest, at a stable path, not
        for place, root in ((folder, "../../"), (Path(reports.path), "")):
            (place / "manifest.json").write_text(text, encoding="utf-8")
            (place / "report.html").write_text(render(manifest, root), encoding="utf-8")
        pending.unlink(missing_ok=True)
        tables = manifest["tables"]
        context.log.info(f"published {published}; report {folder / 'report.html'}")
        return dg.MaterializeResult(
            metadata={
                "published_path": dg.MetadataValue.path(str(published)),
                "report": dg.MetadataValue.path(str(folder / "report.html")),
                "status": manifest["status"],
                "checks_failed": sum(not c["passed"] for c in manifest["checks"]),
                "tables": dg.MetadataValue.json({t: v["rows"] for t, v in tables.items()}),
            }
        )

    return publications


def _record(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dict[str, Any]:
    """The run's manifest, also recorded in `audit.publications` of the build file."""
    now = datetime.now(UTC)
    # Checksums of the file as it is on disk: publication then only checks that the file still
    # has the record written below and every table's row count. A month-partitioned table is
    # hashed only in the months that have no kept sum (those the run rewrote), and one kept
    # month of each, chosen by the run, is hashed again to check the sums kept.
    sums = warehouse.read_closed(partial(table_sums.checksums, spot=context.run.run_id))
    tables = sums.tables
    if sums.mismatched:
        context.log.error(
            "kept month checksums did not match their rows (hashed whole instead): "
            f"{', '.join(sums.mismatched)}; a writer of these tables rewrote months without "
            "taking their sums out (assets/common/table_sums.py)"
        )
    with warehouse.connect() as con:
        table_sums.keep(con, sums.parts, context.run.run_id)
        checks = runs.check_results(context)
        expectations = runs.expectation_results(con)
        manifest: dict[str, Any] = {
            "status": runs.overall_status(checks, expectations),
            "run_id": context.run.run_id,
            "published_at": now.isoformat(timespec="seconds"),
            "published_path": warehouse.published_path,
            "code": runs.code_version(),
            "inputs": runs.inputs(con),
            "versions": runs.list_versions(con),
            "checks": checks,
            "expectations": expectations,
            "quarantine": findings.quarantine_reasons(con),
            "figures": findings.figures(con),
            "tables": tables,
            # tables whose spot-checked kept month sum did not match its rows (a bug: see log)
            "checksums_mismatched": sums.mismatched,
        }
        con.execute(sql.load("audit", "publications"))
        forget_attempt(con, context.run.run_id)
        con.execute(
            "insert into audit.publications values ($run, $at, $path, $rows, $sums, $commit)",
            {
                "run": context.run.run_id,
                "at": now,
                "path": warehouse.published_path,
                "rows": json.dumps({t: v["rows"] for t, v in tables.items()}),
                "sums": json.dumps({t: v["checksum"] for t, v in tables.items()}),
                "commit": manifest["code"]["git_commit"],
            },
        )
        log_step(con, context, rows_received=None, rows_written=len(tables))
    return manifest
