"""The landing area as a whole: every file in it, what feeds which dataset, and what is refused.

Each source's raw step reads only its own files. This asset looks at everything else too, so that
a stray name (`declarations_2024-12 copy.csv`), a symbolic link or a file no contract accepts is
recorded with its reason instead of being skipped in silence or stopping the run. Nothing of a
refused file's content is read.
"""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from assets.common import sql
from assets.common.landing import LandingArea, inventory
from assets.common.warehouse import Warehouse, log_step

_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "path": pl.String(),
    "dataset": pl.String(),
    "month": pl.String(),
    "size_bytes": pl.Int64(),
    "refused": pl.String(),
    "seen_at": pl.Datetime("us", "UTC"),
}


@dg.asset(key=["audit", "landing_files"], group_name="audit", kinds={"duckdb"})
def landing_files(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: LandingArea
) -> dg.MaterializeResult:
    """Every file in the landing area with the dataset it feeds, or why it is refused."""
    entries = inventory(landing.root)
    now = datetime.now(UTC)
    frame = pl.DataFrame(
        [
            (context.run.run_id, e.path, e.dataset, e.month, e.size_bytes, e.refused, now)
            for e in entries
        ],
        schema=_SCHEMA,
        orient="row",
    )
    for entry in entries:
        if entry.refused:
            context.log.warning(f"landing area: {entry.refused}")
    with warehouse.connect() as con:
        # recreated from sql/audit/landing_files.sql, so its types are the documented ones
        con.execute("drop table if exists audit.landing_files")
        con.execute(sql.load("audit", "landing_files"))
        con.register("_files", frame.to_arrow())
        try:
            con.execute("insert into audit.landing_files by name select * from _files")
        finally:
            con.unregister("_files")
        rows = frame.height
        log_step(con, context, rows_received=rows, rows_written=rows)
    refused = [e.refused for e in entries if e.refused]
    return dg.MaterializeResult(metadata={"files": rows, "refused": dg.MetadataValue.json(refused)})


@dg.asset_check(asset=["audit", "landing_files"], name="every_file_recognised")
def every_file_recognised(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Every file in the landing area is one a contract accepts (others are listed, not read)."""
    with warehouse.connect() as con:
        refused = [
            str(row[0])
            for row in con.execute(
                "select refused from audit.landing_files where refused is not null order by path"
            ).fetchall()
        ]
    return dg.AssetCheckResult(
        passed=not refused,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(refused) or "every landing file is recognised",
        metadata={"refused": dg.MetadataValue.json(refused)},
    )


defs = [landing_files, every_file_recognised]
