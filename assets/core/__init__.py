"""Resolved entities and facts that join several sources."""

from assets.common.sql_assets import sql_table_asset

_CORE = {
    "shipments": "Import declarations, valued in US dollars; nothing from the sanctions lists.",
    "shipment_listings": "The importer's sanctions status on two clocks, for listed importers.",
    "shipment_controls": "Each shipment's control measures: how each concerns it, and if in force.",
    "controlled_shipments": "Each controlled shipment's measures, aggregated for the flags.",
    "companies": "Russian companies resolved by INN across customs, tax and sanctions data.",
    "company_sales": "Sales per company and year, with the share sold to defence buyers.",
    "importer_years": "What each importer bought and sold in a year; nothing from the lists.",
    "importer_names": "The name each importer declared most often, by month.",
}

defs = [
    definition
    for table, description in _CORE.items()
    for definition in sql_table_asset("core", table, group="core", description=description)
]
