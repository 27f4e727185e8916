"""Trade statistics: synthetic exporter-reported monthly files, and real published extracts."""

from assets.common.ingest import csv_source_assets
from assets.common.sql_assets import sql_table_asset
from assets.trade_statistics.published import published_trade_statistics, totals_match_files

defs = [
    *csv_source_assets("trade_statistics", group="trade_statistics"),
    published_trade_statistics,
    totals_match_files,
    *sql_table_asset(
        "core",
        "published_trade_hs2022",
        group="trade_statistics",
        description="Published trade statistics with each HS-6 code put in HS 2022 terms.",
    ),
]
