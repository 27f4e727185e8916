-- marts.transshipment_routes
-- Grain: origin country x dispatch country x importer country x month x HS-6, for controlled
-- goods whose origin differs from the country they were shipped from.
-- Keys: origin_country, dispatch_country, importer_country, month, hs6.
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
    shipments.declaration_month as month,
    shipments.hs6,
    controlled.control_tags,
    round(fsum(shipments.statistical_value_usd), 2) as value_usd,
    count(*) as shipments,
    count(distinct shipments.importer_inn) as importers,
    count(distinct shipments.exporter_name) as exporters,
    list_sort(list(distinct shipments.exporter_name)) as exporter_names
from shipments
inner join controlled on shipments.hs6 = controlled.hs6
group by
    shipments.origin_country,
    shipments.dispatch_country,
    shipments.importer_country,
    shipments.declaration_month,
    shipments.hs6,
    controlled.control_tags
