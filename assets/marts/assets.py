"""Marts: the tables analysts query, one per file in `sql/marts/` (see `catalog`), and the
quality step over them."""

from assets.common.sql_assets import sql_table_asset
from assets.marts.catalog import MART_CONTRACTS
from assets.marts.quality import mart_quality

defs = [
    definition
    for table, contract in MART_CONTRACTS.items()
    for definition in sql_table_asset("marts", table, group="marts", description=contract.name)
]
defs += [mart_quality]
