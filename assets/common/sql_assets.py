"""Assets whose table is one SQL file: `sql/<layer>/<table>.sql` becomes asset `[layer, table]`.

Dependencies are read from the file itself (every `layer.table` it names), so the lineage shown
in Dagster is the lineage the SQL really has.
"""

import re

import dagster as dg

from assets.common import sql
from assets.common.warehouse import Warehouse, log_step

_TABLE_REFERENCE = re.compile(r"\b(raw|staging|core|marts)\.([a-z_][a-z0-9_]*)\b")


def sql_dependencies(layer: str, table: str) -> list[dg.AssetKey]:
    """Asset keys of the tables a SQL file reads (comments excluded)."""
    body = "\n".join(line.split("--", 1)[0] for line in sql.load(layer, table).splitlines())
    found = {(m.group(1), m.group(2)) for m in _TABLE_REFERENCE.finditer(body)}
    found.discard((layer, table))
    return [dg.AssetKey(list(key)) for key in sorted(found)]


def _is_macro(statement: str) -> bool:
    """A file that defines a macro holds its own `create or replace macro` statement."""
    body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
    return body.lstrip().lower().startswith("create or replace macro")


def sql_table_asset(layer: str, table: str, *, group: str, description: str) -> dg.AssetsDefinition:
    """An asset that (re)creates `layer.table` (a table, or a macro) from its SQL file."""

    @dg.asset(
        key=[layer, table],
        deps=sql_dependencies(layer, table),
        group_name=group,
        description=description,
        kinds={"duckdb", "sql"},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        statement = sql.load(layer, table)
        with warehouse.connect() as con:
            if _is_macro(statement):
                con.execute(statement)
                rows = 0
            else:
                rows = sql.create_table_from_file(con, layer, table)
            log_step(con, context, rows_received=None, rows_written=rows)
        return dg.MaterializeResult(
            metadata={"rows": rows, "sql": dg.MetadataValue.path(f"sql/{layer}/{table}.sql")}
        )

    return _asset
