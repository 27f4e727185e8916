"""Monthly bilateral trade statistics as the exporting countries report them."""

from assets.common.ingest import csv_source_assets

defs = csv_source_assets("trade_statistics", group="trade_statistics")
