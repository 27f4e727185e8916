"""Published trade statistics in their real layouts (UN Comtrade, Taiwan customs, Eurostat).

Files land in `trade_statistics_published/<format>/`; each is parsed by its format's parser
into one normalized frame and kept with its provenance. The demo lands the bundled Eurostat
extracts, and the UN Comtrade and Taiwan customs ones from ../shared when present (their terms
do not allow bundling: `orchestration.cli.seed_landing`).
"""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.common.landing import LandingArea
from assets.common.raw import decodes_in, land
from assets.common.sql import quote_ident
from assets.common.warehouse import Warehouse, log_step, replace_table
from assets.trade_statistics.formats import FORMATS, LANDING, _common, parser_for


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


# The value column of each published layout and the factor that turns it into the staged unit
# (Taiwan's portal publishes thousands of US dollars).
VALUE_COLUMNS = {
    "VALUE_IN_EUR": 1,
    "primaryValue": 1,
    "美元(千元)": 1000,
    "Export Value (USD)": 1,
}


def recount(path: str, con: duckdb.DuckDBPyConnection | None = None) -> tuple[int, float] | None:
    """Records and value total of one landed file, read by DuckDB apart from the parsers.

    Counts the records whose value cell is filled (blank records and repeated headers left by
    concatenated downloads are not records), and sums that cell times its unit. None when the
    file has none of the known value columns. `con`: an in-memory connection to read it in (one
    for all the files of a check; a new one each costs 20-40 ms), else a new one.
    """
    if con is None:
        with duckdb.connect() as own:
            return recount(path, own)
    # DuckDB reads a file that is not UTF-8 to its first bad byte before it fails: the first
    # try is the encoding that decodes the file (about a millisecond here)
    for encoding in ("utf-8", "latin-1") if _is_utf8(path) else ("latin-1",):
        try:
            con.execute(
                "create or replace temporary table received as select * from read_csv("
                "$path, header = false, all_varchar = true, encoding = $encoding, "
                "null_padding = true, strict_mode = false, auto_detect = true)",
                {"path": path, "encoding": encoding},
            )
            break
        except duckdb.Error:
            continue
    else:
        return None
    names = [row[0] for row in con.execute("describe received").fetchall()]
    header = con.execute("select * from received limit 1").fetchone() or ()
    for column, unit in VALUE_COLUMNS.items():
        if column not in [str(cell or "").lstrip("\ufeff").strip() for cell in header]:
            continue
        field = names[[str(c or "").lstrip("\ufeff").strip() for c in header].index(column)]
        cell = quote_ident(field)  # DuckDB's own name (column0, column1, ...), not data
        amount = f"try_cast(replace(trim({cell}), ',', '') as decimal(38, 6))"
        records, total = con.execute(
            f"select count(*), sum({amount}) from received "  # noqa: S608
            f"where trim(coalesce({cell}, '')) not in ('', $column)",
            {"column": column},
        ).fetchone() or (0, None)
        return int(records), float(total or 0) * unit
    return None


def _is_utf8(path: str) -> bool:
    """Whether the file decodes as UTF-8 (True for a file that cannot be read: DuckDB's read
    then fails as it did before this was asked, and the recount says so)."""
    try:
        return decodes_in(Path(path), "utf-8")
    except OSError:
        return True


@dg.asset_check(
    asset=["staging", "published_trade_statistics"], name="totals_match_files", blocking=True
)
def totals_match_files(warehouse: Warehouse, landing: LandingArea) -> dg.AssetCheckResult:
    """Every landed file's record count and value total, recounted by DuckDB, were staged."""
    with warehouse.connect() as con:
        staged = con.execute(
            "select source_file, count(*), coalesce(sum(coalesce(value_usd, value_eur)), 0) "
            "from staging.published_trade_statistics group by source_file order by source_file"
        ).fetchall()
    problems, files = [], []
    with duckdb.connect() as counter:
        recounts = {f: recount(str(landing.root / f), counter) for f, _, _ in staged}
    for source_file, rows, total in staged:
        found = recounts[source_file]
        if found is None:
            problems.append(f"{source_file}: no known value column to recount")
            continue
        records, file_total = found
        files.append({"file": source_file, "records": records, "staged": rows, "total": file_total})
        if records != rows:
            problems.append(f"{source_file}: {records} records in the file, {rows} staged")
        if abs(file_total - total) > max(0.01, abs(file_total) * 1e-9):
            problems.append(f"{source_file}: file total {file_total:,.2f}, staged {total:,.2f}")
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) or f"{len(files)} files: records and totals match",
        metadata={"files": dg.MetadataValue.json(files)},
    )
