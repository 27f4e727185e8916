"""Trade statistics: synthetic exporter-reported monthly files, and real published extracts."""

from assets.common.ingest import csv_source_assets
from assets.trade_statistics.published import published_trade_statistics

defs = [
    *csv_source_assets("trade_statistics", group="trade_statistics"),
    published_trade_statistics,
]
