-- core.sanctioned_identifiers
-- Grain: one row per identifier a list entry has carried. Keys: list_id, entry_id, scheme, value.
-- is_valid is the check-digit verdict (null where the scheme has no check); only valid
-- identifiers are used for exact joins. first_seen/last_seen bound the snapshots that had it.
select
    list_id,
    entry_id,
    scheme,
    value,
    min(country) as country,
    bool_and(is_valid) as is_valid,
    min(snapshot_date) as first_seen,
    max(snapshot_date) as last_seen
from staging.sanctions_identifiers
group by list_id, entry_id, scheme, value
