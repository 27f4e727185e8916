"""Marts: the tables analysts query."""

from assets.common.sql_assets import sql_table_asset
from assets.marts.quality import expectations_met, mart_quality

_MARTS = {
    "dual_use_trade_monthly": "Controlled goods by exporter, importer country, month, HS-6, tag.",
    "mirror_trade_monthly": "Importer-reported vs exporter-reported trade per flow and month.",
    "importer_profile": "Per importer and year: what, from where, listed status, sales, risk.",
    "flagged_shipments": "One row per shipment and reason it deserves a look, with evidence.",
    "transshipment_routes": "Controlled goods whose origin differs from their dispatch country.",
    "sanctions_list_changes": "Each list delta and the importers and shipments it affected.",
    "screening_matches": "Companies screened against the lists, with analysts' decisions.",
}

defs = [
    definition
    for table, description in _MARTS.items()
    for definition in sql_table_asset("marts", table, group="marts", description=description)
]
defs += [mart_quality, expectations_met]
