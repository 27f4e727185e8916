"""Published trade statistics in their real layouts (UN Comtrade, Taiwan customs, Eurostat).

Files land in `trade_statistics_published/<format>/`; each is parsed by its format's parser
into one normalized frame and kept with its provenance. Nothing lands there in the demo; a
deployment (or a test) drops the real extracts in.
"""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from assets.common.landing import LandingArea
from assets.common.raw import land
from assets.common.warehouse import Warehouse, log_step, replace_table
from assets.trade_statistics.formats import FORMATS, _common, parser_for

LANDING = "trade_statistics_published"


@dg.asset(
    key=["staging", "published_trade_statistics"],
    group_name="trade_statistics",
    kinds={"duckdb", "polars"},
)
def published_trade_statistics(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: LandingArea
) -> dg.MaterializeResult:
    """Comtrade, Taiwan customs and Eurostat extracts, normalized, with provenance."""
    frames = [
        pl.DataFrame(schema=_common.SCHEMA).with_columns(
            pl.lit(None, dtype=pl.String).alias("format"),
            pl.lit(None, dtype=pl.String).alias("source_file"),
            pl.lit(None, dtype=pl.String).alias("source_sha256"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("loaded_at"),
        )
    ]
    files = []
    for format_name in FORMATS:
        folder = landing.root / LANDING / format_name
        for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
            landed = land(path, landing.root)
            frame = parser_for(format_name)(path.read_bytes()).with_columns(
                pl.lit(format_name).alias("format"),
                pl.lit(landed.relative).alias("source_file"),
                pl.lit(landed.sha256).alias("source_sha256"),
                pl.lit(datetime.now(UTC)).alias("loaded_at"),
            )
            frames.append(frame)
            files.append({"file": landed.relative, "rows": frame.height})
    combined = pl.concat(frames, how="vertical_relaxed")
    with warehouse.connect() as con:
        rows = replace_table(con, "staging", "published_trade_statistics", combined)
        log_step(con, context, rows_received=rows, rows_written=rows)
    return dg.MaterializeResult(metadata={"rows": rows, "files": dg.MetadataValue.json(files)})
