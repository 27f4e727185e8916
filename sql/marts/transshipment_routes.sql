-- marts.transshipment_routes
-- Grain: origin country x dispatch country x importer country x importer x month x HS-6, for
-- controlled goods whose origin differs from the country they were shipped from.
-- Keys: origin_country, dispatch_country, importer_country, importer_inn, month, hs6.
-- importer_name is the name the importer declared most often that month (core.importer_names).
-- Partitioned by month: month (a run rebuilds the months it covers).
with shipments as (
    select * from core.shipments
    where routed_via_third_country
),

controlled as (
    select
        hs6,
        list_sort(list(distinct control_tag)) as control_tags
    from core.control_list_items
    group by hs6
)

select
    shipments.origin_country,
    shipments.dispatch_country,
    shipments.importer_country,
    shipments.importer_inn,
    any_value(importer_names.importer_name) as importer_name,
    shipments.declaration_month as month,
    shipments.hs6,
    controlled.control_tags,
    round(fsum(shipments.statistical_value_usd), 2) as value_usd,
    count(*) as shipments,
    count(distinct shipments.exporter_name) as exporters,
    list_sort(list(distinct shipments.exporter_name)) as exporter_names
from shipments
inner join controlled on shipments.hs6 = controlled.hs6
inner join core.importer_names
    on
        shipments.importer_inn = importer_names.importer_inn
        and shipments.declaration_month = importer_names.declaration_month
group by
    shipments.origin_country,
    shipments.dispatch_country,
    shipments.importer_country,
    shipments.importer_inn,
    shipments.declaration_month,
    shipments.hs6,
    controlled.control_tags
