"""Publication: the last step of a build copies the checked warehouse to where readers look."""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from assets.common.sql import table_ref
from assets.common.warehouse import Warehouse, log_step

PUBLISHED_LAYERS = ("raw", "staging", "core", "marts", "quarantine", "audit")

_DDL = """
create table if not exists audit.publications (
    run_id varchar,
    published_at timestamp with time zone,
    published_path varchar,
    table_rows json
)
"""


class Reports(dg.ConfigurableResource):  # type: ignore[misc]
    """Folder where each run's manifest is written for auditors."""

    path: str


_INPUTS = """
select table_schema || '.' || table_name as table_name
from information_schema.columns
where table_schema = 'raw' and column_name = 'source_sha256'
order by 1
"""


def _inputs(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """Every landed file in `raw`, with its sha256 and row count."""
    found: list[dict[str, object]] = []
    for (qualified,) in con.execute(_INPUTS).fetchall():
        schema, table = qualified.split(".")
        query = (
            f"select source_file, source_sha256, count(*) from {table_ref(schema, table)} "  # noqa: S608
            "group by all order by 1"
        )
        for file, sha256, rows in con.execute(query).fetchall():
            found.append({"table": qualified, "file": file, "sha256": sha256, "rows": rows})
    return found


def publication_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publish step, downstream of every mart so that it runs last."""

    @dg.asset(
        key=["audit", "publications"],
        deps=upstream,
        group_name="audit",
        kinds={"duckdb"},
    )
    def publications(
        context: dg.AssetExecutionContext, warehouse: Warehouse, reports: Reports
    ) -> dg.MaterializeResult:
        """Record the build's table sizes, then atomically publish the warehouse for readers."""
        with warehouse.connect() as con:
            tables = con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in (select unnest($layers)) order by 1, 2",
                {"layers": list(PUBLISHED_LAYERS)},
            ).fetchall()
            counts = {}
            for schema, table in tables:
                query = f"select count(*) from {table_ref(schema, table)}"  # noqa: S608
                counts[f"{schema}.{table}"] = int(con.execute(query).fetchall()[0][0])
            inputs = _inputs(con)
            con.execute(_DDL)
            con.execute(
                "insert into audit.publications values ($run, $at, $path, $rows)",
                {
                    "run": context.run.run_id,
                    "at": datetime.now(UTC),
                    "path": warehouse.published_path,
                    "rows": json.dumps(counts),
                },
            )
            log_step(con, context, rows_received=None, rows_written=len(counts))
        published = warehouse.publish()
        context.log.info(f"published {published}")
        manifest = {
            "run_id": context.run.run_id,
            "published_path": str(published),
            "inputs": inputs,
            "tables": counts,
        }
        folder = Path(reports.path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return dg.MaterializeResult(
            metadata={
                "published_path": dg.MetadataValue.path(str(published)),
                "tables": dg.MetadataValue.json(counts),
            }
        )

    return publications
