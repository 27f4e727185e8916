"""Marts: the tables analysts query."""

from assets.common.sql_assets import sql_table_asset

defs = [
    sql_table_asset(
        "marts",
        "dual_use_trade_monthly",
        group="marts",
        description="Controlled goods by exporter, importer country, month, HS-6 and control tag.",
    ),
]
