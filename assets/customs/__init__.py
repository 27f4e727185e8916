"""Customs import declarations: shipment-level records from the importing country, and the
exchange rates that convert their invoice values to US dollars."""

from assets.common.ingest import csv_source_assets

defs = [
    *csv_source_assets("customs_declarations", group="customs"),
    *csv_source_assets("fx_rates", group="customs"),
]
