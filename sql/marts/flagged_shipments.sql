-- marts.flagged_shipments
-- Grain: one row per shipment and reason. Keys: declaration_id, reason.
-- Partitioned by month: declaration_date (a run rebuilds the months it covers).
-- Reasons: listed_at_shipment (importer on a sanctions list on the declaration date),
-- listed_later (listed now but not then), controlled_after_effective (a measure governing the
-- export covered its HS-6 and had taken effect: a control of the country it was dispatched
-- from, national or a joint list's author; a measure that controls by technical specification
-- is not enough; measures_in_force names them),
-- defence_end_user (controlled goods bought by an importer that sold at least half of that
-- year's sales to defence-register companies), routed_via_third_country (controlled goods whose
-- origin differs from the dispatch country; the evidence names the export controls of the
-- origin country in force when they were re-exported). evidence says what to check.
with shipments as not materialized (
    select
        *,
        year(declaration_date) as year
    from core.shipments
),

controls as (
    select
        declaration_id,
        list_sort(list(distinct control_tag)) as control_tags,
        list_sort(list(distinct measure_id) filter (
            governs and after_effective and coverage = 'hs_code'
        )) as measures_in_force,
        string_agg(
            distinct measure_id || ' (effective ' || effective_from || ')', '; '
            order by measure_id || ' (effective ' || effective_from || ')'
        ) filter (
            governs and after_effective and coverage = 'hs_code'
        ) as measures_in_force_text,
        string_agg(
            distinct measure_id || ' (effective ' || effective_from || ')', '; '
            order by measure_id || ' (effective ' || effective_from || ')'
        ) filter (
            relation = 'reexported_via_third_country' and after_effective
            and coverage = 'hs_code'
        ) as reexported_after
    from core.shipment_controls
    group by declaration_id
),

sales as not materialized (
    select * from core.company_sales
),

flags as (
    select
        shipments.declaration_id,
        'listed_at_shipment' as reason,
        'importer INN on ' || shipments.importer_list_entries || ' on '
        || shipments.declaration_date as evidence
    from shipments
    where shipments.importer_listed_on_date
    union all
    select
        shipments.declaration_id,
        'listed_later' as reason,
        'importer INN on ' || shipments.importer_list_entries || ' now, not on '
        || shipments.declaration_date as evidence
    from shipments
    where shipments.importer_listed_now and not shipments.importer_listed_on_date
    union all
    select
        controls.declaration_id,
        'controlled_after_effective' as reason,
        'HS ' || shipments.hs6 || ' from ' || shipments.origin_country || ' under '
        || controls.measures_in_force_text as evidence
    from controls
    inner join shipments on controls.declaration_id = shipments.declaration_id
    where controls.measures_in_force_text is not null
    union all
    select
        controls.declaration_id,
        'defence_end_user' as reason,
        'importer sold ' || round(100 * sales.defence_sales_share, 1) || '% of its ' || sales.year
        || ' sales to defence-register buyers' as evidence
    from controls
    inner join shipments on controls.declaration_id = shipments.declaration_id
    inner join sales
        on shipments.importer_inn = sales.seller_inn and shipments.year = sales.year
    where sales.defence_sales_share >= 0.5
    union all
    select
        controls.declaration_id,
        'routed_via_third_country' as reason,
        'made in ' || shipments.origin_country || ', dispatched from '
        || shipments.dispatch_country || ' by an exporter in ' || shipments.exporter_country
        || coalesce(
            '; re-exported after ' || controls.reexported_after
            || ' took effect where the goods were made (it governs exports from there only)',
            ''
        ) as evidence
    from controls
    inner join shipments on controls.declaration_id = shipments.declaration_id
    where shipments.routed_via_third_country
)

select
    flags.declaration_id,
    flags.reason,
    flags.evidence,
    shipments.declaration_date,
    shipments.importer_name,
    shipments.importer_inn,
    shipments.importer_inn_valid,
    shipments.exporter_name,
    shipments.exporter_country,
    shipments.origin_country,
    shipments.dispatch_country,
    shipments.commodity_code,
    shipments.hs6,
    controls.control_tags,
    coalesce(controls.measures_in_force, []) as measures_in_force,
    shipments.goods_description,
    shipments.statistical_value_usd,
    shipments.importer_list_entries,
    shipments.source_file,
    shipments.source_row_number
from flags
inner join shipments on flags.declaration_id = shipments.declaration_id
left join controls on flags.declaration_id = controls.declaration_id
