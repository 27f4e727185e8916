"""Great Expectations suites on the marts, derived from their data contracts: what they read, and
how they run. Without Dagster: the suites' worker process imports this (and Great Expectations)
only, so it is ready sooner and holds less (`assets.marts.worker`).

Each mart's suite comes from its contract: unique grain keys, required columns, ranges, and
values that must exist in reference data (ISO countries, HS 2022 subheadings). Reconciliations
check that mart totals equal the staging totals for the same filter. GX runs on pandas frames
(its SQL datasource fails with DuckDB 2.0) and its Data Docs are rewritten to work offline. A
suite reads a mart's rows in a scope of months (`Scope`, all by default; `validation_scope`
decides which) and in batches of whole months (`BATCH_ROWS`), so its memory is bounded.
"""

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from assets.common.contracts import Contract, contract_for_table, reference_set
from assets.common.sql import month_after, month_batches, month_column, quote_ident, table_ref
from assets.marts.catalog import MARTS
from assets.marts.data_docs import make_offline
from assets.marts.gx_import import great_expectations

if TYPE_CHECKING:
    import pandas as pd

# (first day of the first month, first day after the last month) a mart's suite reads
Scope = tuple[date, date]


def month_filter(mart: str, scope: Scope | None) -> tuple[str, dict[str, Any]]:
    """The `where` clause (and its values) selecting a scope's rows of a mart; all if None."""
    if scope is None:
        return "", {}
    column = month_column("marts", mart)
    if column is None:
        raise ValueError(f"marts.{mart} is not partitioned by month")
    name = quote_ident(column)
    return f"where {name} >= $first and {name} < $after", {"first": scope[0], "after": scope[1]}


def describe(scope: Scope | None) -> str:
    """A scope as the results and Data Docs name it: 'all' or 'YYYY-MM to YYYY-MM'."""
    if scope is None:
        return "all"
    last = date.fromordinal(scope[1].toordinal() - 1)
    return f"{scope[0]:%Y-%m} to {last:%Y-%m}"


# Where each reference set comes from, as the Data Docs name it.
REFERENCE_SOURCES = {
    "hs2022_hs6": "HS 2022 subheadings, staging.hs_nomenclature level 6",
    "iso3166_alpha2": "ISO 3166-1 alpha-2 from pycountry, and XK",
}

# (name, mart-side values, staging-side values): their totals must agree to the cent.
RECONCILIATIONS = (
    (
        "importer_profile imports = staged customs value",
        "select total_imports_usd from marts.importer_profile",
        "select statistical_value_usd from staging.customs_declarations",
    ),
    (
        "mirror importer side = staged customs value",
        "select importer_reported_usd from marts.mirror_trade_monthly",
        "select statistical_value_usd from staging.customs_declarations",
    ),
    (
        "mirror exporter side = staged exports to the same destinations",
        "select exporter_reported_usd from marts.mirror_trade_monthly",
        "select value_usd from staging.trade_statistics where flow = 'X' and "
        "partner_country in (select distinct importer_country from staging.customs_declarations)",
    ),
    (
        "CHPL-4B trade = staged customs value of CHPL-4B codes",
        "select value_usd from marts.dual_use_trade_monthly where control_tag = 'CHPL-4B'",
        "select statistical_value_usd from staging.customs_declarations where hs6 in "
        "(select hs6 from staging.control_measures where control_tag = 'CHPL-4B')",
    ),
    (
        "importer_dual_use_monthly under the CHPL = staged customs value of CHPL codes",
        "select value_usd from marts.importer_dual_use_monthly "
        "where measure_id = 'CHPL-2024-02-23'",
        "select statistical_value_usd from staging.customs_declarations where hs6 in "
        "(select hs6 from staging.control_measures where measure_id = 'CHPL-2024-02-23')",
    ),
    (
        "counterparty_sales = staged sales invoices",
        "select amount_rub from marts.counterparty_sales",
        "select amount_rub from staging.sales_invoices",
    ),
    (
        "partner_trade_monthly = staged monthly published statistics",
        "select value from marts.partner_trade_monthly",
        "select coalesce(value_usd, value_eur) from staging.published_trade_statistics "
        "where period_granularity = 'month'",
    ),
)


def _outside(column: str, reference_set: str) -> str:
    """The checked column holding `column`'s values that are not in `reference_set`."""
    return f"{column} not in {reference_set}"


def _expectations(contract: Contract) -> list[Any]:
    gx = great_expectations()

    found: list[Any] = []
    if contract.primary_key:
        found.append(
            gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(contract.primary_key))
        )
    for column in contract.columns:
        if column.required:
            found.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=column.name))
        if column.minimum is not None or column.maximum is not None:
            found.append(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=column.name, min_value=column.minimum, max_value=column.maximum
                )
            )
        if column.reference_set is not None:
            # Membership in a reference set is checked on a column of the values outside it (the
            # set given inline costs GX a copy of it per lookup: 25 s for the 5,600 HS codes).
            source = REFERENCE_SOURCES.get(column.reference_set, column.reference_set)
            found.append(
                gx.expectations.ExpectColumnValuesToBeNull(
                    column=_outside(column.name, column.reference_set),
                    notes=f"Every {column.name} is in the reference set {column.reference_set} "
                    f"({source}): this column "
                    f"holds the {column.name} values that are not, so each one found is listed.",
                )
            )
    return found


def suite_columns(contract: Contract) -> set[str]:
    """The columns a mart's suite is about (`_expectations`): its key, the required columns,
    the bounded ones and those checked against a reference set. Only these are read for it:
    `marts.flagged_shipments` has 20 columns and its suite reads 7, and the rows the worker
    holds as pandas objects are most of a large build's memory peak."""
    return {*contract.primary_key} | {
        c.name
        for c in contract.columns
        if c.required
        or c.minimum is not None
        or c.maximum is not None
        or c.reference_set is not None
    }


def _with_outside_columns(
    frame: "pd.DataFrame", contract: Contract, hs6_codes: list[str]
) -> "pd.DataFrame":
    """`frame` with a column per reference-set check: the value where it is outside the set."""
    for column in contract.columns:
        if column.reference_set is None:
            continue
        values = (
            hs6_codes
            if column.reference_set == "hs2022_hs6"
            else reference_set(column.reference_set)
        )
        checked = frame[column.name]
        frame[_outside(column.name, column.reference_set)] = checked.where(~checked.isin(values))
    return frame


_NULLABLE_INTEGERS = {
    "TINYINT": "Int8",
    "SMALLINT": "Int16",
    "INTEGER": "Int32",
    "BIGINT": "Int64",
    "UTINYINT": "UInt8",
    "USMALLINT": "UInt16",
    "UINTEGER": "UInt32",
    "UBIGINT": "UInt64",
}


def mart_query(
    con: duckdb.DuckDBPyConnection, mart: str, where: str = "", columns: set[str] | None = None
) -> tuple[list[tuple[str, str]], str]:
    """(column name, DuckDB type) of a mart's `columns` (all by default), and the query that
    reads them (the rows `where` selects) as the suites see it: nested values (lists, structs)
    as their text."""
    types = [
        (name, kind)
        for name, kind in con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where schema_name = 'marts' and table_name = $mart order by column_index",
            {"mart": mart},
        ).fetchall()
        if columns is None or name in columns
    ]
    selected = ", ".join(
        f"{quote_ident(name)}::varchar as {quote_ident(name)}"
        if kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION"))
        else quote_ident(name)
        for name, kind in types
    )
    return types, f"select {selected} from {table_ref('marts', mart)} {where}"  # noqa: S608


@dataclass(frozen=True)
class MartRows:
    """A mart's rows the suites read: its column types, and its rows in batches of months (a
    Parquet file each, with the months it holds; None for the whole mart), so that the worker
    holds one batch at a time (`BATCH_ROWS`)."""

    types: list[tuple[str, str]]
    batches: list[tuple[str, Scope | None]]
    # In several batches: the rows whose key is repeated anywhere in the scope (the count Great
    # Expectations' uniqueness expectation gives over one frame), which no batch alone sees.
    repeated_keys: int | None = None

    def folder(self) -> Path:
        """The folder of its files."""
        return Path(self.batches[0][0]).parent


# The most rows of a month-partitioned mart the worker validates at once: it holds them as
# pandas objects, about 1 kB a row with Great Expectations' own copies (`flagged_shipments`'
# 475k rows of a 10M-declaration build took a process from 0.34 to 0.82 GB), so a mart with
# more rows in its scope is validated a batch of consecutive months at a time and the worker's
# memory stays bounded whatever the input size. A month with more rows is a batch of its own.
BATCH_ROWS = 250_000


@dataclass(frozen=True)
class SuiteInputs:
    """What the suites read, taken from the warehouse by the run's process: each mart's rows
    (a Parquet file) with its column types, the months each scoped mart was read for, the HS
    2022 subheadings, and the reconciliations' totals. A worker validates them without opening
    the warehouse, so the run can checkpoint it meanwhile. The rows go through files, which
    DuckDB writes within its memory limit: held in the run's process, a whole mart at 50M
    declarations would add its size to the DuckDB cache that process already holds."""

    marts: tuple[str, ...]
    rows: dict[str, MartRows]
    scopes: dict[str, Scope]
    hs6_codes: list[str]
    totals: list[dict[str, Any]]

    def without_rows(self) -> "SuiteInputs":
        """The same inputs with the marts' rows left out (see `with_rows_from`)."""
        return replace(self, rows={})

    def with_rows_from(self, con: duckdb.DuckDBPyConnection, folder: Path) -> "SuiteInputs":
        """The same inputs with the marts' rows read (again) from `con` into `folder`."""
        return replace(self, rows=_read_rows(con, folder, self.marts, self.scopes))


def _read_rows(
    con: duckdb.DuckDBPyConnection, folder: Path, marts: tuple[str, ...], scopes: dict[str, Any]
) -> dict[str, MartRows]:
    """Each mart's rows in its scope (all if none), nested values as their text, written to
    Parquet files in `folder` (one per batch of months, see `BATCH_ROWS`); and its column types."""
    rows = {}
    for mart in marts:
        contract = contract_for_table("marts", mart)
        columns = suite_columns(contract) if contract is not None else None
        types, query = mart_query(con, mart, columns=columns)  # its rows, filtered per batch
        batches = []
        parts = _batches(con, mart, scopes.get(mart))
        for number, (where, bounds, months) in enumerate(parts):
            path = folder / (f"{mart}.parquet" if len(parts) == 1 else f"{mart}-{number}.parquet")
            con.sql(f"{query}{where}", params=bounds).write_parquet(str(path))
            batches.append((str(path), months))
        repeated = None
        if len(parts) > 1 and contract is not None and contract.primary_key:
            repeated = _repeated_key_rows(con, mart, contract.primary_key, scopes.get(mart))
        rows[mart] = MartRows(types, batches, repeated)
    return rows


def _repeated_key_rows(
    con: duckdb.DuckDBPyConnection, mart: str, key: Sequence[str], scope: Scope | None
) -> int:
    """The rows of `mart` in `scope` whose key is repeated in the scope, counted as
    `ExpectCompoundColumnsToBeUnique` does (every row of a repeated key; a key all null is
    left out)."""
    where, bounds = month_filter(mart, scope)
    columns = ", ".join(quote_ident(name) for name in key)
    all_null = " and ".join(f"{quote_ident(name)} is null" for name in key)
    found = con.execute(
        f"select coalesce(sum(n), 0) from (select count(*) as n from (select {columns} "  # noqa: S608
        f"from {table_ref('marts', mart)} {where}) as _s where not ({all_null}) "
        f"group by {columns} having count(*) > 1)",
        bounds,
    ).fetchall()[0][0]
    return int(found)


def _batches(
    con: duckdb.DuckDBPyConnection, mart: str, scope: Scope | None
) -> list[tuple[str, dict[str, Any], Scope | None]]:
    """The batches a mart's rows in `scope` (all if None) are read in: for each, the `where`
    clause and its values, and the months it holds (`scope` itself for one batch).

    One batch unless a month-partitioned mart has more than `BATCH_ROWS` rows in the scope;
    then runs of consecutive months of at most that many rows (a larger month alone). The
    batches of a whole mart leave no row out: the first also holds the rows without a date,
    and the first and last are open below and above.
    """
    where, bounds = month_filter(mart, scope)
    column = month_column("marts", mart)
    if column is None:
        return [(where, bounds, scope)]
    name = quote_ident(column)
    counts = con.execute(
        f"select date_trunc('month', {name})::date as month, count(*) "  # noqa: S608
        f"from {table_ref('marts', mart)} {where} group by all order by month nulls first",
        bounds,
    ).fetchall()
    if sum(count for _, count in counts) <= BATCH_ROWS:
        return [(where, bounds, scope)]
    dated: list[tuple[date, int]] = [(m, c) for m, c in counts if m is not None]
    if dated:  # rows without a date: with the first batch, and counted in it
        undated = sum(c for m, c in counts if m is None)
        dated[0] = (dated[0][0], dated[0][1] + undated)
    groups = month_batches(dated, BATCH_ROWS)  # the months of each batch
    if len(groups) < 2:
        return [(where, bounds, scope)]
    found: list[tuple[str, dict[str, Any], Scope | None]] = []
    for number, months in enumerate(groups):
        first = months[0] if number > 0 else scope[0] if scope else None
        after = groups[number + 1][0] if number + 1 < len(groups) else scope[1] if scope else None
        held_months = (months[0], month_after(months[-1]))
        if first is None:  # the first batch of a whole mart: open below, with undated rows
            found.append(
                (f"where {name} < $after or {name} is null", {"after": after}, held_months)
            )
        elif after is None:  # the last batch of a whole mart: open above
            found.append((f"where {name} >= $first", {"first": first}, held_months))
        else:
            found.append((*month_filter(mart, (first, after)), held_months))
    return found


def read_inputs(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    marts: tuple[str, ...] | None = None,
    reconciliations: tuple[tuple[str, str, str], ...] | None = None,
    scopes: dict[str, Scope] | None = None,
) -> SuiteInputs:
    """The suites' inputs for the marts and reconciliations (all by default), rows in `folder`.

    Nested values (lists, structs) are read as their text: Great Expectations fingerprints each
    batch with `pd.util.hash_pandas_object`, which cannot hash lists and then pickles the whole
    frame instead (seconds per million rows); no expectation looks inside a nested value, and a
    null stays null. Read through Arrow (from the Parquet files): DuckDB's own `.df()` took 2.5 s
    for the 475k rows of `flagged_shipments` at 10M declarations, Arrow 0.1 s.
    """
    # read at call time, not bound as defaults: a test may extend the module's lists
    marts = MARTS if marts is None else marts
    reconciliations = RECONCILIATIONS if reconciliations is None else reconciliations
    scopes = scopes or {}
    rows = _read_rows(con, folder, marts, scopes)
    totals = reconciliation_totals(con, reconciliations)
    scoped = {mart: scope for mart, scope in scopes.items() if mart in marts}
    return SuiteInputs(marts, rows, scoped, hs6_codes(con), totals)


def hs6_codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The HS 2022 subheadings (the reference set `hs2022_hs6`)."""
    query = "select hscode from staging.hs_nomenclature where level = 6 order by hscode"
    return [row[0] for row in con.execute(query).fetchall()]


def reconciliation_totals(
    con: duckdb.DuckDBPyConnection, reconciliations: tuple[tuple[str, str, str], ...]
) -> list[dict[str, Any]]:
    """Each reconciliation's mart-side and staging-side totals (see `RECONCILIATIONS`)."""
    # each query once: two reconciliations add up the same staged customs value (0.5-0.7 s at 10M)
    totals_of: dict[str, float] = {}
    for _, mart_sql, staging_sql in reconciliations:
        for values_sql in (mart_sql, staging_sql):
            if values_sql not in totals_of:
                totals_of[values_sql] = _total_to_the_cent(con, values_sql)
    return [
        {
            "reconciliation": name,
            "mart_total": totals_of[mart_sql],
            "staging_total": totals_of[staging_sql],
        }
        for name, mart_sql, staging_sql in reconciliations
    ]


def _frame(con: duckdb.DuckDBPyConnection, mart: str, scope: Scope | None = None) -> "pd.DataFrame":
    """The mart (its months in `scope`, or all) as the suites see it (its batches one after
    another: over `BATCH_ROWS` rows, in the order of the batches' months)."""
    import pandas as pd

    scopes = {mart: scope} if scope else {}
    with tempfile.TemporaryDirectory() as folder:
        rows = read_inputs(con, Path(folder), (mart,), (), scopes).rows[mart]
        frames = [_pandas(path, rows.types) for path, _ in rows.batches]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _pandas(path: str, types: list[tuple[str, str]]) -> "pd.DataFrame":
    """A mart's rows as a pandas frame with the dtypes DuckDB's `.df()` gives: dates in
    microseconds, integers with nulls as nullable integers, a column of nulls only as objects."""
    import pyarrow.parquet as pq

    frame = pq.read_table(path).to_pandas(date_as_object=False)
    for name, kind in types:
        column = frame[name]
        if str(column.dtype) == "datetime64[ms]":
            frame[name] = column.astype("datetime64[us]")
        elif kind in _NULLABLE_INTEGERS and column.dtype.kind == "f":
            frame[name] = column.astype(_NULLABLE_INTEGERS[kind])
        elif kind == "VARCHAR" and len(column) and column.isna().all():
            frame[name] = column.astype(object)
    return frame


def _total_to_the_cent(con: duckdb.DuckDBPyConnection, values_sql: str) -> float:
    """The total of a one-column query, exact to the cent: each value is rounded to a decimal
    first, so that the order in which millions of doubles are added cannot move it by a cent."""
    total = con.execute(
        "select coalesce(sum(round(_v.value, 2)::decimal(38, 2)), 0)::double "  # noqa: S608
        f"from ({values_sql}) as _v(value)"
    ).fetchall()[0][0]
    return float(total)


# The folder (beside the build file) of the rows a run hands to the suites.
SUITE_ROWS_PREFIX = ".suites-"

# A validation whose Data Docs are still to be built (see `run_suites(build_docs=False)`).
_pending_docs: list[tuple[Any, Path]] = []


def run_suites(
    con: duckdb.DuckDBPyConnection,
    docs: Path,
    marts: tuple[str, ...] | None = None,
    reconciliations: tuple[tuple[str, str, str], ...] | None = None,
    build_docs: bool = True,
    scopes: dict[str, Scope] | None = None,
) -> list[dict[str, Any]]:
    """Validate the marts and the reconciliations (all by default); Data Docs in `docs`.

    A mart in `scopes` is validated over those months only (`validation_scope`).
    """
    with tempfile.TemporaryDirectory() as folder:
        inputs = read_inputs(con, Path(folder), marts, reconciliations, scopes)
        return validate(inputs, docs, build_docs)


def validate(inputs: SuiteInputs, docs: Path, build_docs: bool = True) -> list[dict[str, Any]]:
    """Run the suites over `inputs`; Data Docs in `docs`.

    A scoped mart's Data Docs asset is named with its months. With `build_docs=False` the Data
    Docs are left for `build_pending_docs`, which the worker process runs after returning the
    results, while the run goes on to publish.
    """
    session = Session()
    results = session.marts(inputs)
    results += session.reconciliations(inputs.totals)
    session.end(docs, build_docs)
    return results


class Session:
    """One validation: a Great Expectations context given marts (in a run, each as soon as
    its step has written it) and then the reconciliations' totals (the run adds them up while
    the worker validates the last marts); `end` leaves its Data Docs to be written."""

    def __init__(self) -> None:
        gx = great_expectations()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.context = gx.get_context(mode="ephemeral")
        # No "Calculating Metrics" bars among the run's log lines (both keys: GX reads each one).
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self.source = self.context.data_sources.add_pandas("warehouse")

    def marts(self, inputs: SuiteInputs) -> list[dict[str, Any]]:
        """The results of the suites of the marts in `inputs` (their rows, in their scopes)."""
        gx = great_expectations()

        results: list[dict[str, Any]] = []
        for mart, rows in inputs.rows.items():
            contract = contract_for_table("marts", mart)
            if contract is None:
                raise ValueError(f"marts.{mart} has no data contract")
            # The whole suite at once: a suite already in the context is saved again on every
            # add_expectation (4.7 s against 0.4 s for the ten marts).
            suite = self.context.suites.add(
                gx.ExpectationSuite(name=f"marts.{mart}", expectations=_expectations(contract))
            )
            scope = describe(inputs.scopes.get(mart))
            batches = []
            for path, months in rows.batches:
                frame = _with_outside_columns(_pandas(path, rows.types), contract, inputs.hs6_codes)
                # a batch's Data Docs name its months (the whole mart's: none)
                asset = mart if months is None else f"{mart} ({describe(months)})"
                batch = self.source.add_dataframe_asset(name=asset)
                # (named as before batches: the name of one is the mart's)
                name = mart if len(rows.batches) == 1 else asset
                definition = gx.ValidationDefinition(
                    name=f"validate {name}",
                    data=batch.add_batch_definition_whole_dataframe("all"),
                    suite=suite,
                )
                batches.append(self._run(mart, definition, frame, scope))
                del frame  # before the next batch's is read
            results += _merged(batches, rows.repeated_keys)
        return results

    def reconciliations(self, totals: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The result of the reconciliations over their totals (none when there are none)."""
        gx = great_expectations()
        import pandas as pd

        if not totals:
            return []
        suite = self.context.suites.add(
            gx.ExpectationSuite(
                name="reconciliation",
                expectations=[
                    gx.expectations.ExpectColumnPairValuesToBeEqual(
                        column_A="mart_total", column_B="staging_total"
                    )
                ],
            )
        )
        batch = self.source.add_dataframe_asset(
            name="reconciliation"
        ).add_batch_definition_whole_dataframe("all")
        definition = gx.ValidationDefinition(name="reconcile", data=batch, suite=suite)
        return self._run("reconciliation", definition, pd.DataFrame(totals), describe(None))

    def _run(
        self, name: str, definition: Any, frame: "pd.DataFrame", months: str
    ) -> list[dict[str, Any]]:
        """The results of `definition` over `frame`, as `name`'s. The validation definition is
        run itself, not through a checkpoint: a checkpoint added nothing the results or the Data
        Docs show, and cost 0.5-0.9 s over the demo's marts (its store and freshness checks)."""
        stored = self.context.validation_definitions.add(definition)
        outcome = stored.run(batch_parameters={"dataframe": frame})
        # GX's execution engine keeps every batch it has loaded, each a whole frame: without
        # this, a worker held every mart (and every batch) it had validated until its run ended
        batches = self.source.get_execution_engine().batch_manager
        batches.reset_batch_cache()
        batches.batch_data_cache.clear()
        results = []
        for item in outcome.results:
            config = item.expectation_config
            if config is None:
                raise RuntimeError(f"a result for {name} has no expectation configuration")
            results.append(
                {
                    "dataset": name,
                    "expectation": config.type,
                    "target_column": str(
                        config.kwargs.get("column")
                        or config.kwargs.get("column_list")
                        or config.kwargs.get("column_A", "")
                    ),
                    "success": bool(item.success),
                    "unexpected": int((item.result or {}).get("unexpected_count") or 0),
                    "validated_months": months,
                }
            )
        return results

    def end(self, docs: Path, build_docs: bool = True) -> None:
        """Write the Data Docs (in `docs`, replacing what is there) now, or leave them to
        `build_pending_docs`."""
        shutil.rmtree(docs, ignore_errors=True)
        self.context.add_data_docs_site(
            site_name="chokepoint",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        _pending_docs.append((self.context, docs))
        if build_docs:
            build_pending_docs()


def _merged(
    batches: list[list[dict[str, Any]]], repeated_keys: int | None = None
) -> list[dict[str, Any]]:
    """One result per expectation of a mart validated in batches: it holds if it held in every
    batch, with their unexpected rows added up. The key's uniqueness is over the whole scope:
    each batch sees the keys repeated within its months, and `repeated_keys` (counted in the
    warehouse, `MartRows`) the keys repeated across them too."""
    merged = [dict(result) for result in batches[0]]
    for results in batches[1:]:
        for total, result in zip(merged, results, strict=True):
            if (total["expectation"], total["target_column"]) != (
                result["expectation"],
                result["target_column"],
            ):
                raise RuntimeError(f"the batches of {total['dataset']} gave other expectations")
            total["success"] = total["success"] and result["success"]
            total["unexpected"] += result["unexpected"]
    if repeated_keys is not None and len(batches) > 1:
        for total in merged:
            if total["expectation"] == "expect_compound_columns_to_be_unique":
                total["unexpected"] = repeated_keys
                total["success"] = repeated_keys == 0
    return merged


def build_pending_docs() -> None:
    """Write the Data Docs of the validations `run_suites` left pending (in this process)."""
    # imported here: it imports Jinja, which the run's process (importing this module with the
    # definitions) does not need
    from assets.marts import docs_templates

    docs_templates.share()  # their templates compiled once, not once per view
    while _pending_docs:
        context, docs = _pending_docs.pop(0)
        # Once for all suites: the whole site is rebuilt by each build (it was per checkpoint).
        context.build_data_docs()
        make_offline(docs)
