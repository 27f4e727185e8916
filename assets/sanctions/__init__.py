"""Sanctions lists: received snapshots, normalized entries, listing history and identifiers."""

from assets.common.sql_assets import sql_table_asset
from assets.sanctions.snapshots import raw_ofac_sdn, staging_ofac_sdn

defs = [
    raw_ofac_sdn,
    staging_ofac_sdn,
    sql_table_asset(
        "core",
        "sanctions_snapshots",
        group="sanctions",
        description="Every received list snapshot with its date, sha256 and parser version.",
    ),
    sql_table_asset(
        "core",
        "sanctions_list_history",
        group="sanctions",
        description="Validity intervals of every list entry, derived by comparing snapshots.",
    ),
    sql_table_asset(
        "core",
        "sanctions_entries",
        group="sanctions",
        description="Every list entry ever seen, with its latest attributes and current status.",
    ),
    sql_table_asset(
        "core",
        "sanctioned_identifiers",
        group="sanctions",
        description="Identifiers (INN, OGRN, ...) of list entries, with check-digit validity.",
    ),
]
