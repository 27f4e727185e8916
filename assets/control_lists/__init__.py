"""Control lists and the HS nomenclature they are written in (bundled reference data)."""

import dagster as dg

from assets.common.ingest import csv_source_assets
from assets.common.sql_assets import sql_table_asset
from assets.common.warehouse import Warehouse

defs: list[dg.AssetsDefinition | dg.AssetChecksDefinition] = [
    *csv_source_assets("hs_nomenclature", group="control_lists"),
    *csv_source_assets("chpl_items", group="control_lists"),
    *csv_source_assets("hs_concordance", group="control_lists"),
    *csv_source_assets("control_measures", group="control_lists"),
    *sql_table_asset(
        "core",
        "control_list_items",
        group="control_lists",
        description="Every controlled HS-6 code with its list step, dates and control tag.",
    ),
]


@dg.asset_check(asset=["core", "control_list_items"], name="every_code_in_hs2022", blocking=True)
def every_code_in_hs2022(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Every listed code converts to an HS 2022 subheading that the nomenclature knows."""
    with warehouse.connect() as con:
        missing = con.execute(
            "select distinct measure_id || ' ' || hs6_as_listed || ' (' || hs_edition || ')' "
            "from core.control_list_items where hs6 is null or description is null order by 1"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not missing,
        description=(
            "every code converts"
            if not missing
            else "no HS 2022 code for " + ", ".join(row[0] for row in missing)
        ),
        metadata={"unconverted": len(missing)},
    )


defs.append(every_code_in_hs2022)
