"""Assets whose table is one SQL file: `sql/<layer>/<table>.sql` becomes asset `[layer, table]`.

Dependencies are read from the file itself (every `layer.table` it names), so the lineage shown
in Dagster is the lineage the SQL really has.
"""

import re
from typing import Any

import dagster as dg

from assets.common import sql, table_sums
from assets.common.contracts import Contract, contract_for_table
from assets.common.partitions import MONTHS, SINGLE_RUN, months_of, run_month_range
from assets.common.warehouse import Warehouse, log_step

_TABLE_REFERENCE = re.compile(r"\b(raw|staging|core|marts)\.([a-z_][a-z0-9_]*)\b")


def sql_dependencies(layer: str, table: str) -> list[dg.AssetKey]:
    """Asset keys of the tables a SQL file reads (comments excluded)."""
    body = "\n".join(line.split("--", 1)[0] for line in sql.load(layer, table).splitlines())
    found = {(m.group(1), m.group(2)) for m in _TABLE_REFERENCE.finditer(body)}
    found.discard((layer, table))
    return [dg.AssetKey(list(key)) for key in sorted(found)]


class MissingUpstream(RuntimeError):
    """A table the SQL reads is not in the warehouse (new in this version, never built yet)."""


def upstream_tables(layer: str, table: str) -> list[tuple[str, str]]:
    """(layer, table) of the tables a SQL file reads; the macros it calls are left out."""
    found = []
    for key in sql_dependencies(layer, table):
        upstream = (key.path[0], key.path[1])
        source = sql.SQL_DIR / upstream[0] / f"{upstream[1]}.sql"
        if not (source.is_file() and _is_macro(sql.load(*upstream))):
            found.append(upstream)
    return found


def missing_tables(con: Any, tables: list[tuple[str, str]]) -> list[str]:
    """Those of `tables` (layer, table) the warehouse does not hold, as `layer.table`."""
    if not tables:
        return []
    present = {
        (row[0], row[1])
        for row in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in (select unnest($layers)) union "
            "select schema_name, view_name from duckdb_views() "
            "where schema_name in (select unnest($layers))",
            {"layers": sorted({layer for layer, _ in tables})},
        ).fetchall()
    }
    return [".".join(key) for key in tables if key not in present]


def _is_macro(statement: str) -> bool:
    """A file that defines a macro holds its own `create or replace macro` statement."""
    body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
    return body.lstrip().lower().startswith("create or replace macro")


def _column_schema(contract: Contract | None) -> dict[str, object]:
    if contract is None:
        return {}
    columns = [
        dg.TableColumn(c.name, c.physical_type or c.logical_type, description=c.description)
        for c in contract.columns
    ]
    return {"dagster/column_schema": dg.TableSchema(columns=columns)}


def sql_table_asset(
    layer: str, table: str, *, group: str, description: str
) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    """An asset that (re)creates `layer.table` (a table, or a macro) from its SQL file.

    When a data contract describes the table, its columns become the asset's column schema and
    a blocking check compares the built table with the contract (columns, types, unique keys).
    The check runs in the asset's own step (a step costs Dagster about 80 ms of bookkeeping);
    when it fails, the step fails and nothing downstream runs, as for a separate blocking check.
    """
    contract = contract_for_table(layer, table)
    # A table whose grain has the month is partitioned by it (its SQL header names the column):
    # a run rebuilds its months only; a list or reference change runs over every month.
    month_column = sql.month_column(layer, table)
    # A yearly aggregate over month-partitioned inputs: a monthly run rebuilds its years only.
    year_column = None if month_column else sql.year_column(layer, table)
    upstream = upstream_tables(layer, table)  # read once, checked at each run

    @dg.asset(
        key=[layer, table],
        deps=sql_dependencies(layer, table),
        group_name=group,
        description=description,
        kinds={"duckdb", "sql"},
        metadata=_column_schema(contract),
        partitions_def=MONTHS if month_column else None,
        backfill_policy=SINGLE_RUN if month_column else None,
        check_specs=[contract_check_spec(layer, table)] if contract else None,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        statement = sql.load(layer, table)
        with warehouse.connect() as con:
            missing = missing_tables(con, upstream)
            if missing:
                raise MissingUpstream(
                    f"{layer}.{table} reads {', '.join(missing)}, which the warehouse does not "
                    "hold yet (a table new in this version is built by its own sources' runs); "
                    "run `chokepoint build` once to build every table"
                )
            scope: tuple[str, list[str]] | None = None
            years: list[int] | None = None
            # publication hashes again what is written here (see assets/common/table_sums.py);
            # a table whose columns change is written whole
            rewritten = months_of(context) if month_column else None
            if rewritten is not None and not sql.has_statement_columns(con, layer, table):
                rewritten = None
            table_sums.forget(con, layer, table, rewritten)
            if _is_macro(statement):
                con.execute(statement)
                rows = 0
            elif month_column:
                months = months_of(context)
                where, bounds = sql.month_filter(month_column, months)
                rows, whole = sql.replace_rows_from_file(con, layer, table, where, bounds)
                # keys are checked where they can have changed: the run's months, unless every
                # row was written (a new table, changed columns, a run over every month)
                scope = None if whole else (month_column, months)
            elif year_column and (years := rebuilt_years(context, upstream)) is not None:
                where, bounds = sql.year_filter(year_column, years)
                rows, whole = sql.replace_rows_from_file(con, layer, table, where, bounds)
                if whole:  # new, or its columns changed: every year was written (and may differ)
                    years = None
            else:
                rows = sql.create_table_from_file(con, layer, table)
            if layer == "marts":
                # imported here: the ledger's module reads this one's materialization metadata
                from assets.marts.validation_scope import forget

                # what was rewritten has not been validated yet, whoever publishes it
                forget(con, table, scope[1] if scope else None)
            log_step(con, context, rows_received=None, rows_written=rows)
            checked = [contract_check(con, layer, table, contract, scope)] if contract else []
            if layer == "marts" and all(check.passed for check in checked):
                # imported here, as above
                from assets.marts.quality import validate_early

                # the run's Great Expectations worker validates it while the run goes on
                validate_early(context, con, warehouse.build_path, table, scope is None)
        metadata: dict[str, Any] = {
            "rows": rows,
            "sql": dg.MetadataValue.path(f"sql/{layer}/{table}.sql"),
        }
        if year_column:  # which years the run rebuilt: its months' years, or every year
            metadata["rebuilt_years"] = ", ".join(map(str, years)) if years else "all"
        if month_column:  # a table whose every row was written says so
            metadata[REBUILT_MONTHS] = "some" if scope else "all"
        return dg.MaterializeResult(metadata=metadata, check_results=checked)

    return [_asset]


REBUILT_MONTHS = "rebuilt_months"


def rebuilt_years(
    context: dg.AssetExecutionContext, upstream: list[tuple[str, str]]
) -> list[int] | None:
    """The years a run can have changed an aggregate's inputs in, or None for every year.

    Only a run over a range of months whose rebuilt inputs are all month-partitioned, or
    aggregates this run rebuilt for those years only, is limited to the years of those months.
    A run that also rebuilds another unpartitioned input (tax data, exchange rates: any year may
    change), a run without months, and a re-execution (its earlier steps ran in another run,
    unseen here) rebuild every year.
    """
    window = run_month_range(context.run.tags)
    if window is None or context.run.parent_run_id is not None:
        return None
    layer = context.job_def.asset_layer
    selected = context.run.asset_selection or layer.selected_asset_keys
    for key in (dg.AssetKey(list(table)) for table in upstream):
        if key not in selected:
            continue
        if layer.asset_graph.get(key).partitions_def is None:
            if not _rebuilt_by_year(context, key):
                return None
        elif rebuilt_whole(context, key):
            return None  # its every month changed in this run (new, or its columns changed)
    return list(range(int(window[0][:4]), int(window[1][:4]) + 1))


def _this_run_says(context: dg.AssetExecutionContext, key: dg.AssetKey, name: str) -> Any:
    """The metadata value `name` of `key`'s materialization by this run (None if none)."""
    event = context.instance.get_latest_materialization_event(key)
    if event is None or event.run_id != context.run.run_id or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get(name)
    return None if value is None else value.value


def _rebuilt_by_year(context: dg.AssetExecutionContext, key: dg.AssetKey) -> bool:
    """Whether this run rebuilt an unpartitioned input for the run's years only (an aggregate
    rebuilt by year, as this one is: same run, same months, same years)."""
    return _this_run_says(context, key, "rebuilt_years") not in (None, "all")


def rebuilt_whole(context: dg.AssetExecutionContext, key: dg.AssetKey) -> bool:
    """Whether this run rebuilt a month-partitioned table over every month (or cannot tell:
    not materialized by this run after all, so assume the worst)."""
    return _this_run_says(context, key, REBUILT_MONTHS) != "some"


def contract_check_spec(layer: str, table: str) -> dg.AssetCheckSpec:
    """The blocking `matches_contract` check of a table built from SQL."""
    return dg.AssetCheckSpec(
        "matches_contract",
        asset=[layer, table],
        blocking=True,
        description="The built table has the contract's columns and types, and unique keys.",
    )


def contract_check(
    con: Any,
    layer: str,
    table: str,
    contract: Contract,
    months: tuple[str, list[str]] | None = None,
) -> dg.AssetCheckResult:
    """Whether the built table has the contract's columns and types, and unique keys.

    With `months` (date column, YYYY-MM list), only keys that occur in those months are checked
    for duplicates (anywhere in the table): the other months' rows were not written by the run.
    """
    built = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = $layer and table_name = $table order by column_index",
        {"layer": layer, "table": table},
    ).fetchall()
    keys = ", ".join(sql.quote_ident(k) for k in contract.primary_key)
    duplicates = 0
    target = sql.table_ref(layer, table)
    if keys and months is None:
        duplicates = int(
            con.execute(
                f"select count(*) from (select {keys} from {target} "  # noqa: S608
                f"group by {keys} having count(*) > 1)"
            ).fetchall()[0][0]
        )
    elif keys and months is not None:
        where, bounds = sql.month_filter(*months)
        duplicates = int(
            con.execute(
                f"select count(*) from (select {keys} from {target} "  # noqa: S608
                f"semi join (select distinct {keys} from {target} {where}) using ({keys}) "
                f"group by {keys} having count(*) > 1)",
                bounds,
            ).fetchall()[0][0]
        )
    expected = [(c.name, c.physical_type) for c in contract.columns]
    problems = []
    if built != expected:
        problems.append(f"columns {built} differ from the contract's {expected}")
    if duplicates:
        problems.append(f"{duplicates} duplicated keys ({', '.join(contract.primary_key)})")
    return dg.AssetCheckResult(
        check_name="matches_contract",
        asset_key=dg.AssetKey([layer, table]),
        passed=not problems,
        description="; ".join(problems) or f"matches {contract.id} v{contract.version}",
        metadata={"contract": contract.id, "duplicated_keys": duplicates},
    )
