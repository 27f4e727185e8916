-- core.sanctioned_identifiers
-- Grain: one row per identifier of a list entry. Keys: list_id, entry_id, scheme, value.
-- is_valid is the check-digit verdict (null where the scheme has no check); only valid
-- identifiers are used for exact joins.
select distinct
    list_id,
    ent_num::varchar as entry_id,
    scheme,
    value,
    country,
    is_valid
from staging.ofac_sdn_identifiers
