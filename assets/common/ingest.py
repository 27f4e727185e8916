"""Asset factory for CSV sources: landing file -> `raw` (as received) -> `staging` (checked).

Each source is described by its data contract: where its files land, how they are partitioned,
which columns they carry and what each value must satisfy. Rows that break the contract go to
`quarantine.<dataset>` with every reason; every other row is typed and staged. A blocking check
proves that no row was lost: rows received = rows staged + rows quarantined.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import polars as pl
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

from assets.common import sql
from assets.common.contracts import REASONS_COLUMN, Contract, load_contract, validate
from assets.common.landing import LandingArea
from assets.common.partitions import MONTHLY, SINGLE_RUN, months_of
from assets.common.paths import REFERENCE_DIR
from assets.common.raw import PROVENANCE_COLUMNS, LandingFileError, land, read_as_received
from assets.common.warehouse import Warehouse, log_step, replace_partition, replace_table, scalar

PARTITION_COLUMN = "partition_month"

_FILE_LOADS_DDL = """
create table if not exists audit.file_loads (
    dataset varchar, file varchar, sha256 varchar, rows bigint, loaded_at timestamp with time zone
)
"""

_CHECKERS = {"ru_inn": ru_inn.is_valid, "ru_ogrn": ru_ogrn.is_valid}


def identifier_validity(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Add `<column>_valid` for each column the contract marks with an identifier scheme."""
    for column in contract.columns:
        scheme = column.identifier_scheme
        if scheme is None:
            continue
        checker = _CHECKERS[scheme]
        values = frame.get_column(column.name).drop_nulls().unique()
        verdicts = pl.DataFrame(
            {column.name: values, f"{column.name}_valid": [checker(v) for v in values]},
            schema={column.name: pl.String, f"{column.name}_valid": pl.Boolean},
        )
        frame = frame.join(verdicts, on=column.name, how="left", nulls_equal=False)
    return frame


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
        raise LandingFileError(f"two files for one delivery: {', '.join(map(str, found))}")
    return found[0] if found else path


def _markdown_counts(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "none"
    lines = ["| reason | rows |", "| --- | --- |"]
    lines += [f"| {reason} | {count} |" for reason, count in frame.rows()]
    return "\n".join(lines)


def csv_source_assets(
    contract_id: str, *, group: str
) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    """Build the raw and staging assets (and their checks) for one contract-described CSV source."""
    contract = load_contract(contract_id)
    source = contract.custom["source"]
    partitioned = source.get("partitioning") == "monthly"
    encodings = source.get("encodings") or [source.get("encoding", "utf-8")]
    formats = source.get("formats", ["csv"])
    partitions_def = MONTHLY if partitioned else None
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
    )
    def raw_asset(
        context: dg.AssetExecutionContext, warehouse: Warehouse, landing: LandingArea
    ) -> dg.MaterializeResult:
        months = months_of(context) if partitioned else None
        files, written = [], 0
        root = REFERENCE_DIR if source.get("root") == "reference" else landing.root
        with warehouse.connect() as con:
            con.execute(_FILE_LOADS_DDL)
            # One month at a time, so that memory stays bounded by the largest month.
            for month, relative in _landing_paths(contract, months):
                path = _present(root / relative, formats)
                landed = land(path, root.parent if root == REFERENCE_DIR else root)
                frame = read_as_received(landed, contract.column_names, encodings)
                if month is None:
                    written += replace_table(con, "raw", contract_id, frame)
                else:
                    frame = frame.with_columns(pl.lit(month).alias(PARTITION_COLUMN))
                    written += replace_partition(
                        con, "raw", contract_id, frame, PARTITION_COLUMN, [month]
                    )
                files.append(
                    {"file": landed.relative, "sha256": landed.sha256, "rows": frame.height}
                )
                con.execute(
                    "insert into audit.file_loads values ($dataset, $file, $sha256, $rows, $at)",
                    {
                        "dataset": contract_id,
                        "file": landed.relative,
                        "sha256": landed.sha256,
                        "rows": frame.height,
                        "at": datetime.now(UTC),
                    },
                )
                del frame
            log_step(con, context, rows_received=written, rows_written=written)
        return dg.MaterializeResult(
            metadata={
                "rows": written,
                "files": dg.MetadataValue.json(files),
                "contract": f"{contract.id} v{contract.version}",
            }
        )

    @dg.asset(
        key=staging_key,
        deps=[raw_key],
        group_name=group,
        description=f"{contract.name}, typed and checked against the data contract.",
        kinds={"duckdb", "pandera"},
        partitions_def=partitions_def,
        backfill_policy=backfill_policy,
    )
    def staging_asset(
        context: dg.AssetExecutionContext, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        months = months_of(context) if partitioned else None
        keep = [*PROVENANCE_COLUMNS, *([PARTITION_COLUMN] if partitioned else [])]
        received = staged_rows = 0
        quarantined_parts = []
        with warehouse.connect() as con:
            for month in months if months is not None else [None]:
                query = f"select * from {sql.table_ref('raw', contract_id)}"  # noqa: S608
                params: dict[str, object] = {}
                if month is not None:
                    query += f" where {PARTITION_COLUMN} = $month"
                    params["month"] = month
                batch = con.sql(query, params=params).pl()
                checked = validate(batch, contract, keep=keep)
                valid = identifier_validity(checked.valid, contract)
                con.register("validated", valid.to_arrow())
                staged = con.sql(
                    sql.load("staging", contract_id), params=source.get("sql_parameters", {})
                ).pl()
                con.unregister("validated")
                quarantined = checked.quarantined.with_columns(
                    pl.lit(datetime.now(UTC)).alias("quarantined_at")
                )
                if month is None:
                    replace_table(con, "staging", contract_id, staged)
                else:
                    replace_partition(
                        con, "staging", contract_id, staged, PARTITION_COLUMN, [month]
                    )
                received += batch.height
                staged_rows += staged.height
                quarantined_parts.append(quarantined)
                del batch, checked, valid, staged
            # Quarantine is small: one write for the whole run, not one per month.
            quarantined = pl.concat(quarantined_parts)
            if months is None:
                replace_table(con, "quarantine", contract_id, quarantined)
            else:
                replace_partition(
                    con, "quarantine", contract_id, quarantined, PARTITION_COLUMN, list(months)
                )
            log_step(
                con,
                context,
                rows_received=received,
                rows_written=staged_rows,
                rows_quarantined=quarantined.height,
            )
        reasons = (
            quarantined.explode(REASONS_COLUMN)
            .group_by(pl.col(REASONS_COLUMN).str.extract(r"^([^:]+: \S+(?: \S+)?)"))
            .len()
            .sort("len", descending=True)
        )
        return dg.MaterializeResult(
            metadata={
                "rows_received": received,
                "rows_staged": staged_rows,
                "rows_quarantined": quarantined.height,
                "quarantine_reasons": dg.MetadataValue.md(_markdown_counts(reasons)),
            }
        )

    @dg.asset_check(asset=staging_key, blocking=True, name="rows_conserved")
    def conservation_check(warehouse: Warehouse) -> dg.AssetCheckResult:
        """Every received row is either staged or quarantined, never lost."""
        counts = {}
        with warehouse.connect() as con:
            for layer in ("raw", "staging", "quarantine"):
                query = f"select count(*) from {sql.table_ref(layer, contract_id)}"  # noqa: S608
                counts[layer] = int(scalar(con, query) or 0)  # type: ignore[call-overload]
        received, staged, quarantined = counts["raw"], counts["staging"], counts["quarantine"]
        ok = received == staged + quarantined
        return dg.AssetCheckResult(
            passed=bool(ok),
            metadata={"received": received, "staged": staged, "quarantined": quarantined},
        )

    @dg.asset_check(asset=raw_key, name="volume_within_bounds")
    def volume_check(warehouse: Warehouse) -> dg.AssetCheckResult:
        """Rows received (per month for monthly sources) stay within the contract's bounds."""
        bounds = contract.custom.get("volume", {})
        low = bounds.get("min_rows_per_partition", bounds.get("min_rows", 0))
        high = bounds.get("max_rows_per_partition", bounds.get("max_rows"))
        with warehouse.connect() as con:
            con.execute(_FILE_LOADS_DDL)
            counts = [  # the latest load of each file of the dataset
                int(row[0])
                for row in con.execute(
                    "select arg_max(rows, loaded_at) from audit.file_loads "
                    "where dataset = $dataset group by file",
                    {"dataset": contract_id},
                ).fetchall()
            ]
        outside = [n for n in counts if n < low or (high is not None and n > high)]
        return dg.AssetCheckResult(
            passed=not outside,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{len(outside)} of {len(counts)} loads outside {low}..{high} rows",
            metadata={"smallest": min(counts, default=0), "largest": max(counts, default=0)},
        )

    return [raw_asset, staging_asset, conservation_check, volume_check]
