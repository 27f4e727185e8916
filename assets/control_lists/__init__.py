"""Control lists and the HS nomenclature they are written in (bundled reference data)."""

from assets.common.ingest import csv_source_assets
from assets.common.sql_assets import sql_table_asset

defs = [
    *csv_source_assets("hs_nomenclature", group="control_lists"),
    *csv_source_assets("chpl_items", group="control_lists"),
    *csv_source_assets("control_measures", group="control_lists"),
    *sql_table_asset(
        "core",
        "control_list_items",
        group="control_lists",
        description="Every controlled HS-6 code with its list step, dates and control tag.",
    ),
]
