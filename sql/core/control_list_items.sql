-- core.control_list_items
-- Grain: one row per control measure and HS-6 code. Keys: measure_id, hs6.
-- control_tag names the list step (CHPL-4B for CNC machine tools on the CHPL, TW-RU-2024-03 for
-- Taiwan's machine-tool step). Codes in other HS editions would be converted here.
with measures as (
    select * from staging.control_measures
),

nomenclature as (
    select
        hscode as hs6,
        description
    from staging.hs_nomenclature
    where level = 6
)

select
    measures.measure_id,
    measures.control_tag,
    measures.jurisdiction,
    measures.list_name,
    measures.announced_on,
    measures.effective_from,
    measures.hs6,
    measures.hs_edition,
    nomenclature.description,
    measures.source
from measures
left join nomenclature on measures.hs6 = nomenclature.hs6
