-- core.control_list_items
-- Grain: one row per control measure and HS 2022 subheading it covers. Keys: measure_id, hs6.
-- control_tag names the list step (CHPL-4B for CNC machine tools on the CHPL, TW-RU-2024-03 for
-- Taiwan's machine-tool step). A code listed in HS 2017 is converted through
-- staging.hs_concordance: it covers every HS 2022 code that holds (some of) its goods, and
-- hs6_as_listed keeps the code(s) the list gave. An HS 2017 code the concordance lacks keeps a null
-- hs6 (the asset's blocking check fails on it) rather than being dropped.
with measures as not materialized (
    select * from staging.control_measures
),

concordance as (
    select
        hs2017,
        hs2022
    from staging.hs_concordance
),

converted as (
    select
        measures.*,
        measures.hs6 as hs6_as_listed,
        case
            when measures.hs_edition = 'HS2022' then measures.hs6
            else concordance.hs2022
        end as hs6_2022
    from measures
    left join concordance
        on measures.hs_edition = 'HS2017' and measures.hs6 = concordance.hs2017
),

nomenclature as (
    select
        hscode as hs6,
        description
    from staging.hs_nomenclature
    where level = 6
)

select
    converted.measure_id,
    converted.control_tag,
    converted.jurisdiction,
    string_split(converted.governs_exports_from, ' ') as governs_exports_from,
    converted.authority,
    converted.list_name,
    converted.reference,
    converted.announced_on,
    converted.effective_from,
    converted.hs6_2022 as hs6,
    string_agg(distinct converted.hs6_as_listed, ', ' order by converted.hs6_as_listed)
        as hs6_as_listed,
    converted.hs_edition,
    converted.coverage,
    nomenclature.description,
    converted.source
from converted
left join nomenclature on converted.hs6_2022 = nomenclature.hs6
group by all
