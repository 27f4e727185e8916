"""EGRUL registry extracts (XML) in the landing area: every record kept, latest one per company."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from assets.common.landing import LandingArea
from assets.common.raw import land
from assets.common.warehouse import Warehouse, log_step, replace_table
from assets.tax import egrul_xml

LANDING = "tax/egrul"


@dg.asset(key=["staging", "egrul_records"], group_name="tax", kinds={"duckdb", "xml"})
def egrul_records(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: LandingArea
) -> dg.MaterializeResult:
    """Company records from EGRUL XML extracts (several per company and day possible)."""
    frames = [
        pl.DataFrame(schema=egrul_xml.SCHEMA).with_columns(
            pl.lit(None, dtype=pl.String).alias("source_file"),
            pl.lit(None, dtype=pl.String).alias("source_sha256"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("loaded_at"),
        )
    ]
    folder = landing.root / LANDING
    for path in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
        landed = land(path, landing.root)
        frames.append(
            egrul_xml.parse(path.read_bytes()).with_columns(
                pl.lit(landed.relative).alias("source_file"),
                pl.lit(landed.sha256).alias("source_sha256"),
                pl.lit(datetime.now(UTC)).alias("loaded_at"),
            )
        )
    records = pl.concat(frames, how="vertical_relaxed")
    with warehouse.connect() as con:
        rows = replace_table(con, "staging", "egrul_records", records)
        log_step(con, context, rows_received=rows, rows_written=rows)
    return dg.MaterializeResult(metadata={"rows": rows, "files": len(frames) - 1})
