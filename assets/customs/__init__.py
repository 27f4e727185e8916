"""Customs import declarations: shipment-level records from the importing country."""

from assets.common.ingest import csv_source_assets

defs = csv_source_assets("customs_declarations", group="customs")
