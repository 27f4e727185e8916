"""Asset factory for CSV sources: landing file -> `raw` (as received) -> `staging` (checked).

Each source is described by its data contract: where its files land, how they are partitioned,
which columns they carry and what each value must satisfy. Rows that break the contract go to
`quarantine.<dataset>` with every reason; every other row is typed and staged. A blocking check
proves that no row was lost: rows received = rows staged + rows quarantined.
"""

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

from assets.common import deliveries, sql, table_sums
from assets.common.contract_sql import checked_rows_query, received_text, repeated_keys_queries
from assets.common.contracts import Contract, load_contract
from assets.common.dataset_rules import materialise_reasons, tables_read
from assets.common.landing import LandingArea
from assets.common.partitions import MONTHS, SINGLE_RUN, months_of
from assets.common.paths import REFERENCE_DIR
from assets.common.raw import (
    PROVENANCE_COLUMNS,
    RECEIVED,
    RECEIVED_ROWS,
    Delivery,
    LandingFileError,
    land_and_prepare,
    scan,
)
from assets.common.warehouse import Warehouse, log_step, scalar
from assets.common.warehouse import table_exists as sql_table_exists

PARTITION_COLUMN = "partition_month"

_CHECKERS = {"ru_inn": ru_inn.is_valid, "ru_ogrn": ru_ogrn.is_valid}
_UNSTAGED = "_unstaged"
# The CSV bytes one scan reads: several monthly files scanned in parallel, held in memory (and
# spilled beyond DuckDB's memory limit) until they are written to `raw`.
_BATCH_BYTES = 256 << 20
# The received rows one search for the rows staging left out compares at a time (see
# `_find_unstaged`): its hash table of file names and row numbers stays within DuckDB's limit.
_UNSTAGED_BATCH_ROWS = 5_000_000


def _months_filter(months: Sequence[str] | None) -> str:
    if months is None:
        return ""
    # The range lets DuckDB skip other months' row groups (each file's rows are stored
    # together); the IN list alone is a join, which reads every row of the table.
    return (
        f" where {PARTITION_COLUMN} between $first_month and $last_month "
        f"and {PARTITION_COLUMN} in (select unnest($months))"
    )


def _months_params(months: Sequence[str] | None) -> dict[str, object]:
    """The parameters `_months_filter` needs."""
    if months is None:
        return {}
    return {"months": list(months), "first_month": min(months), "last_month": max(months)}


def _store_raw(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    stored: list[tuple[str | None, Delivery]],
) -> None:
    """Write the stored deliveries' rows of `_received` to `raw.<dataset>` with their provenance.

    In one transaction (`_replace`): each delivery replaces its month (an unpartitioned one, the
    table).
    """
    partitioned = any(month is not None for month, _ in stored)
    con.execute(
        "create or replace temporary table _provenance (scanned varchar, source_file varchar, "
        "source_sha256 varchar, source_encoding varchar, partition_month varchar)"
    )
    con.executemany(
        "insert into _provenance values (?, ?, ?, ?, ?)",
        [
            [str(d.scanned), d.landed.relative, d.landed.sha256, d.encoding, month]
            for month, d in stored
        ],
    )
    received = ", ".join(f"_r.{sql.quote_ident(c)}" for c in contract.column_names)
    provenance = {  # in the order of PROVENANCE_COLUMNS, the table's column order
        "source_file": "_p.source_file",
        "source_sha256": "_p.source_sha256",
        "source_encoding": "_p.source_encoding",
        "source_row_number": "_r.source_row_number",
        "loaded_at": "$at",
    }
    select = (
        f"select {received}, "  # noqa: S608
        + ", ".join(f"{provenance[c]} as {c}" for c in PROVENANCE_COLUMNS)
        + (f", _p.partition_month as {PARTITION_COLUMN}" if partitioned else "")
        + f" from {RECEIVED_ROWS} as _r join _provenance as _p on _r._path = _p.scanned"
    )
    months = sorted({m for m, _ in stored if m is not None}) if partitioned else None
    try:
        _replace(con, "raw", contract.id, select, {"at": datetime.now(UTC)}, months)
    finally:
        con.execute("drop table _provenance")


def _batches(
    prepared: Iterable[tuple[str | None, str, Delivery]],
) -> Iterator[list[tuple[str | None, str, Delivery]]]:
    """Deliveries in batches of about `_BATCH_BYTES`: memory stays bounded by one batch.

    Lazily: a file is prepared (hashed, its encoding and header checked) just before its batch
    is scanned, so that what is scanned is what was checked a moment before.
    """
    batch: list[tuple[str | None, str, Delivery]] = []
    size = 0
    for item in prepared:
        batch.append(item)
        size += item[2].size
        if size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _raw_rows(contract: Contract, months: Sequence[str] | None) -> str:
    """The run's rows of `raw.<dataset>`."""
    return f"(select * from {sql.table_ref('raw', contract.id)}{_months_filter(months)})"  # noqa: S608


def _checked(
    contract: Contract,
    months: Sequence[str] | None,
    repeated: list[str],
    source: str,
    source_params: dict[str, object],
    extra_reasons: str | None,
) -> tuple[str, dict[str, object]]:
    """The contract's checks over `source` (the run's rows as received; it uses `source_params`)."""
    return checked_rows_query(
        contract,
        source,
        [*PROVENANCE_COLUMNS, *([PARTITION_COLUMN] if months is not None else [])],
        key_scope=[PARTITION_COLUMN] if months is not None else None,
        params=source_params,
        repeated=repeated,
        extra_reasons=extra_reasons,
    )


def _repeated_keys(
    con: duckdb.DuckDBPyConnection, contract: Contract, months: Sequence[str] | None
) -> list[str]:
    """Materialise the run's repeated keys (small tables); return their names."""
    names = []
    queries = repeated_keys_queries(
        contract,
        _raw_rows(contract, months),
        key_scope=[PARTITION_COLUMN] if months is not None else None,
        params=_months_params(months),
    )
    for number, (query, params) in enumerate(queries):
        name = f"_repeated_{number}"
        con.execute(f"create or replace temporary table {name} as {query}", params)
        names.append(name)
    return names


def _identifier_validity(
    con: duckdb.DuckDBPyConnection, contract: Contract, months: Sequence[str] | None
) -> list[str]:
    """`_valid_<column>`: the check-digit verdict of each identifier received; their columns."""
    found = []
    for column in contract.columns:
        scheme = column.identifier_scheme
        if scheme is None:
            continue
        text, text_params = received_text(column)
        received = con.execute(
            f"select distinct {text} as value from {_raw_rows(contract, months)} "  # noqa: S608
            "where value is not null order by value",
            {**_months_params(months), **text_params},
        ).fetchall()
        values = [row[0] for row in received]
        checker = _CHECKERS[scheme]
        verdicts = pl.DataFrame(
            {"value": values, "valid": [checker(v) for v in values]},
            schema={"value": pl.String, "valid": pl.Boolean},
        )
        con.register("_verdicts", verdicts.to_arrow())
        con.execute(
            f"create or replace temporary table {sql.quote_ident('_valid_' + column.name)} "  # noqa: S608
            "as select * from _verdicts"
        )
        con.unregister("_verdicts")
        found.append(column.name)
    return found


def _staging_select(
    contract: Contract,
    months: Sequence[str] | None,
    repeated: list[str],
    identifiers: list[str],
    sql_parameters: dict[str, object],
    extra_reasons: str | None,
) -> tuple[str, dict[str, object]]:
    """The staging SQL file over `validated`: the rows that break no rule, with verdicts."""
    checked, params = _checked(
        contract,
        months,
        repeated,
        _raw_rows(contract, months),
        _months_params(months),
        extra_reasons,
    )
    columns = "".join(
        f", {sql.quote_ident('_valid_' + c)}.valid as {sql.quote_ident(c + '_valid')}"
        for c in identifiers
    )
    joins = "".join(
        f" left join {sql.quote_ident('_valid_' + c)} "
        f"on _c.{sql.quote_ident(c)} = {sql.quote_ident('_valid_' + c)}.value"
        for c in identifiers
    )
    validated = (
        f"select _c.* exclude (reasons){columns} from ({checked}) as _c{joins} "  # noqa: S608
        "where _c.reasons is null"
    )
    statement = (
        f"with validated as ({validated}) select * from ({sql.load('staging', contract.id)})"  # noqa: S608
    )
    return statement, {**params, **sql_parameters}


def _quarantine_select(
    contract: Contract,
    months: Sequence[str] | None,
    repeated: list[str],
    extra_reasons: str | None,
) -> tuple[str, dict[str, object]]:
    """The rows that were not staged, every value as received, with their reasons."""
    checked, params = _checked(contract, months, repeated, _UNSTAGED, {}, extra_reasons)
    statement = (
        f"select _r.*, _c.reasons, now() as quarantined_at from {_UNSTAGED} as _r "  # noqa: S608
        f"join ({checked}) as _c using (source_file, source_row_number) "
        "where _c.reasons is not null"
    )
    return statement, params


def _received_by_month(
    con: duckdb.DuckDBPyConnection, contract: Contract, months: Sequence[str]
) -> list[tuple[str, int]]:
    """The run's received rows by month, in month order."""
    rows = con.execute(
        f"select {PARTITION_COLUMN}, count(*) from {_raw_rows(contract, months)} "  # noqa: S608
        "group by all order by all",
        _months_params(months),
    ).fetchall()
    return [(month, int(count)) for month, count in rows]


def _find_unstaged(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    months: Sequence[str] | None,
    received: list[tuple[str, int]],
) -> None:
    """`_unstaged`: every received row of the run that staging left out, as received.

    A few months at a time (`_UNSTAGED_BATCH_ROWS` received rows, or one month if larger): the
    anti join holds every staged row's file name and row number in a hash table, and over a
    whole 50M-row run that table spilled far past DuckDB's limit (72 s, against 3.8 s by six
    months). A row and the staged rows it is compared with always share their month.
    `received` is the run's rows by month (`_received_by_month`; unused when unpartitioned).
    """
    batches: list[list[str] | None] = [None]  # an unpartitioned table: all of it at once
    if months is not None:
        batches = [*sql.month_batches(received, _UNSTAGED_BATCH_ROWS)]
    con.execute(
        f"create or replace temporary table {_UNSTAGED} as "  # noqa: S608
        f"select * from {sql.table_ref('raw', contract.id)} limit 0"
    )
    for batch in batches:
        staged = (
            f"(select source_file, source_row_number "  # noqa: S608
            f"from {sql.table_ref('staging', contract.id)}{_months_filter(batch)})"
        )
        con.execute(
            f"insert into {_UNSTAGED} select * from {_raw_rows(contract, batch)} "  # noqa: S608
            f"anti join {staged} using (source_file, source_row_number)",
            _months_params(batch),
        )


def _replace(
    con: duckdb.DuckDBPyConnection,
    layer: str,
    table: str,
    select: str,
    params: dict[str, object],
    months: Sequence[str] | None,
) -> int:
    """Replace `layer.table` (or the run's months of it) with the rows of `select`."""
    target = sql.table_ref(layer, table)
    con.execute("begin transaction")
    try:
        table_sums.forget(con, layer, table, months)
        if months is None:
            con.execute(f"create or replace table {target} as {select}", params)
        else:
            con.execute(f"create table if not exists {target} as {select} limit 0", params)
            con.execute(
                f"delete from {target}{_months_filter(months)}",  # noqa: S608
                _months_params(months),
            )
            con.execute(f"insert into {target} by name {select}", params)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    filter_ = _months_filter(months)
    return int(
        scalar(  # type: ignore[call-overload]
            con,
            f"select count(*) from {target}{filter_}",  # noqa: S608
            _months_params(months),
        )
    )


def _landing_paths(
    contract: Contract, months: Sequence[str] | None
) -> list[tuple[str | None, str]]:
    """(month, landing path) for each file a run reads; month is None for unpartitioned sources."""
    pattern: str = contract.custom["source"]["landing"]
    if months is None:
        return [(None, pattern)]
    return [(month, pattern.format(month=month)) for month in months]


def _present(path: Path, formats: list[str]) -> Path:
    """The one file delivered for a landing path, in any of the source's formats."""
    candidates = [path.with_suffix(f".{fmt}") for fmt in formats]
    found = [candidate for candidate in candidates if candidate.is_file()]
    if len(found) > 1:
        names = ", ".join(f.suffix for f in found)
        raise LandingFileError(
            f"{path.parent.name}/{path.stem}: two files for one delivery ({names}); neither is read"
        )
    return found[0] if found else path


def _markdown_counts(rows: list[tuple[str, int]]) -> str:
    if not rows:
        return "none"
    lines = ["| reason | rows |", "| --- | --- |"]
    lines += [f"| {reason} | {count} |" for reason, count in rows]
    return "\n".join(lines)


def raw_check_specs(raw_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The checks of a raw table, run in its own step (a step costs Dagster about 80 ms)."""
    return [
        dg.AssetCheckSpec(
            "volume_within_bounds",
            asset=raw_key,
            description="Rows received (per month for monthly sources) stay within the "
            "contract's bounds.",
        ),
        dg.AssetCheckSpec(
            "no_delivery_held",
            asset=raw_key,
            blocking=True,
            description="No delivery of this run would lose more rows than the contract allows "
            "(unapproved).",
        ),
        dg.AssetCheckSpec(
            "no_file_refused",
            asset=raw_key,
            description="Every file the run was to read was read (a refused one leaves its rows "
            "as they were).",
        ),
    ]


def raw_checks(
    con: duckdb.DuckDBPyConnection, contract: Contract, raw_key: dg.AssetKey, run_id: str
) -> list[dg.AssetCheckResult]:
    """Volume within bounds (a warning), no delivery held (blocking), no file refused."""
    bounds = contract.custom.get("volume", {})
    low = bounds.get("min_rows_per_partition", bounds.get("min_rows", 0))
    high = bounds.get("max_rows_per_partition", bounds.get("max_rows"))
    counts = [  # the latest load of each file of the dataset
        int(row[0])
        for row in con.execute(
            "select arg_max(rows, loaded_at) from audit.file_loads "
            "where dataset = $dataset group by file",
            {"dataset": contract.id},
        ).fetchall()
    ]
    outside = [n for n in counts if n < low or (high is not None and n > high)]
    held = deliveries.of_run(con, "held_deliveries", run_id, contract.id)
    refused = deliveries.of_run(con, "refused_files", run_id, contract.id)
    return [
        dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="volume_within_bounds",
            passed=not outside,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{len(outside)} of {len(counts)} loads outside {low}..{high} rows",
            metadata={"smallest": min(counts, default=0), "largest": max(counts, default=0)},
        ),
        dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="no_delivery_held",
            passed=not held,
            description="; ".join(reason for _, reason in held) or "no delivery held",
            metadata={"held": dg.MetadataValue.json([file for file, _ in held])},
        ),
        dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="no_file_refused",
            passed=not refused,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(reason for _, reason in refused) or "no file refused",
            metadata={"refused": dg.MetadataValue.json([file for file, _ in refused])},
        ),
    ]


def conservation_check(
    con: duckdb.DuckDBPyConnection, contract_id: str, staging_key: dg.AssetKey
) -> dg.AssetCheckResult:
    """Every received row is either staged or quarantined, never lost (blocking)."""
    counts = {}
    for layer in ("raw", "staging", "quarantine"):
        query = f"select count(*) from {sql.table_ref(layer, contract_id)}"  # noqa: S608
        counts[layer] = int(scalar(con, query) or 0)  # type: ignore[call-overload]
    received, staged, quarantined = counts["raw"], counts["staging"], counts["quarantine"]
    return dg.AssetCheckResult(
        asset_key=staging_key,
        check_name="rows_conserved",
        passed=received == staged + quarantined,
        metadata={"received": received, "staged": staged, "quarantined": quarantined},
    )


def csv_source_assets(
    contract_id: str, *, group: str
) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    """Build the raw and staging assets (and their checks) for one contract-described CSV source."""
    contract = load_contract(contract_id)
    source = contract.custom["source"]
    partitioned = source.get("partitioning") == "monthly"
    encodings = source.get("encodings") or [source.get("encoding", "utf-8")]
    formats = source.get("formats", ["csv"])
    partitions_def = MONTHS if partitioned else None
    backfill_policy = SINGLE_RUN if partitioned else None
    raw_key = dg.AssetKey(["raw", contract_id])
    staging_key = dg.AssetKey(["staging", contract_id])

    @dg.asset(
        key=raw_key,
        group_name=group,
        description=f"{contract.name} files as received, one row per record, with provenance.",
        kinds={"duckdb", "csv"},
        partitions_def=partitions_def,
        backfill_policy=backfill_policy,
        check_specs=raw_check_specs(raw_key),
    )
    def raw_asset(
        context: dg.AssetExecutionContext, warehouse: Warehouse, landing: LandingArea
    ) -> dg.MaterializeResult:
        months = months_of(context) if partitioned else None
        files, written = [], 0
        root = REFERENCE_DIR if source.get("root") == "reference" else landing.root
        run_id = context.run.run_id
        granted, refused_approvals = deliveries.approvals(landing.root)
        approved = {(a.dataset, a.sha256): a for a in granted}
        for problem in refused_approvals:
            context.log.warning(f"approval row not used: {problem}")
        refused, held = [], []
        with warehouse.connect() as con, tempfile.TemporaryDirectory() as workdir:
            con.execute(sql.load("audit", "file_loads"))
            deliveries.create_tables(con)

            def refuse(relative: str, refusal: LandingFileError) -> None:
                deliveries.refuse(con, run_id, contract_id, relative, str(refusal))
                refused.append(str(refusal))
                context.log.error(f"refused: {refusal}")

            def prepared() -> Iterator[tuple[str | None, str, Delivery]]:
                for month, relative in _landing_paths(contract, months):
                    try:
                        path = _present(root / relative, formats)
                        delivery = land_and_prepare(
                            path,
                            root.parent if root == REFERENCE_DIR else root,
                            contract.column_names,
                            Path(workdir),
                            encodings,
                        )
                    except LandingFileError as refusal:
                        refuse(relative, refusal)
                        continue
                    yield month, relative, delivery

            # DuckDB scans the files into the warehouse, a batch at a time; Python never holds
            # them. A file that cannot be read, or would lose rows, leaves its month as it was.
            for batch in _batches(prepared()):
                counts, unreadable = scan(con, [d for _, _, d in batch], contract.column_names)
                named = {d.scanned: relative for _, relative, d in batch}
                for delivery, layout in unreadable:
                    refuse(named[delivery.scanned], layout)
                stored = []
                for month, _, delivery in batch:
                    if delivery.scanned not in counts:
                        continue  # refused above
                    landed, delivered = delivery.landed, counts[delivery.scanned]
                    previous = deliveries.previous_rows(con, contract, month, PARTITION_COLUMN)
                    loss = deliveries.loss_reason(contract, landed.relative, previous, delivered)
                    if loss is not None and (contract_id, landed.sha256) not in approved:
                        deliveries.hold(
                            con, run_id, contract_id, landed.relative, landed.sha256,
                            previous, delivered, loss,
                        )  # fmt: skip
                        held.append(loss)
                        context.log.error(f"held: {loss}")
                        continue
                    if loss is not None:  # released by a reviewer: the approval is kept
                        approval = approved[(contract_id, landed.sha256)]
                        deliveries.apply_approval(con, run_id, approval, previous, delivered)
                    stored.append((month, delivery))
                if stored:
                    _store_raw(con, contract, stored)
                    at = datetime.now(UTC)
                    con.executemany(
                        "insert into audit.file_loads values (?, ?, ?, ?, ?)",
                        [
                            [contract_id, d.landed.relative, d.landed.sha256, counts[d.scanned], at]
                            for _, d in stored
                        ],
                    )
                con.execute(f"drop view {RECEIVED_ROWS}")
                con.execute(f"drop table {RECEIVED}")
                for _, _, delivery in batch:  # UTF-8 copies of other encodings: one batch's only
                    if delivery.scanned != delivery.landed.path:
                        delivery.scanned.unlink()
                for _, delivery in stored:
                    landed, rows = delivery.landed, counts[delivery.scanned]
                    written += rows
                    files.append({"file": landed.relative, "sha256": landed.sha256, "rows": rows})
            log_step(con, context, rows_received=written, rows_written=written)
            checked = raw_checks(con, contract, raw_key, run_id)
        return dg.MaterializeResult(
            check_results=checked,
            metadata={
                "rows": written,
                "files": dg.MetadataValue.json(files),
                "refused": dg.MetadataValue.json(refused),
                "held": dg.MetadataValue.json(held),
                "contract": f"{contract.id} v{contract.version}",
            },
        )

    @dg.asset(
        key=staging_key,
        deps=[raw_key, *(dg.AssetKey([layer, table]) for layer, table in tables_read(contract))],
        group_name=group,
        description=f"{contract.name}, typed and checked against the data contract.",
        kinds={"duckdb", "sql"},
        partitions_def=partitions_def,
        backfill_policy=backfill_policy,
        check_specs=[
            dg.AssetCheckSpec(
                "rows_conserved",
                asset=staging_key,
                blocking=True,
                description="Every received row is either staged or quarantined, never lost.",
            )
        ],
    )
    def staging_asset(
        context: dg.AssetExecutionContext, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        months = list(months_of(context)) if partitioned else None
        with warehouse.connect() as con:
            # Typed and checked in one pass that writes staging; only the rows it left out
            # are checked again to say why, and quarantined with their values as received.
            if not sql_table_exists(con, "raw", contract_id):
                raise deliveries.NothingDelivered(
                    f"{contract_id}: no delivery has been accepted yet; see audit.refused_files"
                )
            repeated = _repeated_keys(con, contract, months)
            identifiers = _identifier_validity(con, contract, months)
            extra = materialise_reasons(
                con, contract, _raw_rows(contract, months), _months_params(months), months
            )
            staging_sql, staging_params = _staging_select(
                contract, months, repeated, identifiers, source.get("sql_parameters", {}), extra
            )
            staged = _replace(con, "staging", contract_id, staging_sql, staging_params, months)
            by_month = _received_by_month(con, contract, months) if months is not None else []
            _find_unstaged(con, contract, months, by_month)
            quarantine_sql, quarantine_params = _quarantine_select(
                contract, months, repeated, extra
            )
            quarantined = _replace(
                con, "quarantine", contract_id, quarantine_sql, quarantine_params, months
            )
            params = _months_params(months)
            received = (
                sum(rows for _, rows in by_month)
                if months is not None
                else int(scalar(con, f"select count(*) from {_raw_rows(contract, None)}"))  # type: ignore[call-overload]  # noqa: S608
            )
            reasons = con.execute(
                "select regexp_extract(reason, '^([^:]+: \\S+(?: \\S+)?)', 1) as reason, "  # noqa: S608
                "count(*) as n from (select unnest(reasons) as reason from "
                f"{sql.table_ref('quarantine', contract_id)}{_months_filter(months)}) "
                "group by all order by n desc, reason",
                params,
            ).fetchall()
            log_step(
                con,
                context,
                rows_received=received,
                rows_written=staged,
                rows_quarantined=quarantined,
            )
            temporary = [*repeated, *(f"_valid_{c}" for c in identifiers), _UNSTAGED]
            for name in [*temporary, *([extra] if extra else [])]:
                con.execute(f"drop table if exists {sql.quote_ident(name)}")
            conserved = conservation_check(con, contract_id, staging_key)
        return dg.MaterializeResult(
            check_results=[conserved],
            metadata={
                "rows_received": received,
                "rows_staged": staged,
                "rows_quarantined": quarantined,
                "quarantine_reasons": dg.MetadataValue.md(_markdown_counts(reasons)),
            },
        )

    return [raw_asset, staging_asset]
