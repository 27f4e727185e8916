"""Sanctions lists as Dagster assets: received snapshots, normalized entries, history, deltas."""

from assets.common.sql_assets import sql_table_asset
from assets.sanctions.approvals import no_pending_snapshots
from assets.sanctions.snapshots import no_rejected_snapshots, raw_sanctions_files, staging_sanctions

_CORE = {
    "sanctions_snapshots": "Every accepted list snapshot with its date, files, sha256 and parser.",
    "sanctions_list_history": "Validity intervals of every list entry, derived from snapshots.",
    "sanctions_entries": "Every list entry ever seen, with its latest attributes and status.",
    "sanctioned_identifiers": "Identifiers (INN, OGRN, IMO, ...) of entries, with validity.",
    "inn_listing_periods": "When each valid Russian INN of a list entry was on the list.",
    "sanctions_list_deltas": "Entries added, removed or changed between consecutive snapshots.",
    "sanctions_list_versions": "The latest snapshot of each list: the versions marts record.",
    "sanctions_list_as_of": "Table macro: a list as known on a date.",
    "sanctions_listed_on": "Scalar macro: was an entry listed on a date.",
}

defs = [
    raw_sanctions_files,
    no_rejected_snapshots,
    no_pending_snapshots,
    staging_sanctions,
    *(
        definition
        for table, description in _CORE.items()
        for definition in sql_table_asset("core", table, group="sanctions", description=description)
    ),
]
