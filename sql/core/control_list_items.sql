-- core.control_list_items
-- Grain: one row per control list, version and HS-6 code. Keys: list_id, list_version, hs6.
-- control_tag names the list and tier an item belongs to (e.g. CHPL-4B for CNC machine tools).
with chpl as (
    select * from staging.chpl_items
)

select
    'CHPL' as list_id,
    list_version,
    hs6,
    'CHPL-' || chpl_tier as control_tag,
    hs2022_description as description,
    'HS2022' as hs_edition
from chpl
