"""Resolved entities and facts that join several sources."""

from assets.common.sql_assets import sql_table_asset

defs = [
    sql_table_asset(
        "core",
        "shipments",
        group="core",
        description="Import declarations with the importer's sanctions status on two clocks.",
    ),
    sql_table_asset(
        "core",
        "companies",
        group="core",
        description="Russian companies resolved by INN across customs, tax and sanctions data.",
    ),
]
