-- marts.dual_use_trade_monthly
-- Grain: exporter country x importer country x month x HS-6 x control tag.
-- Keys: exporter_country, importer_country, month, hs6, control_tag.
-- Only goods on a control list; a code on several lists appears once per tag.
with shipments as (
    select * from core.shipments
),

controlled as (
    select * from core.control_list_items
),

latest_snapshots as (
    select
        list_id,
        max(snapshot_date) as snapshot_date
    from core.sanctions_snapshots
    group by list_id
),

list_versions as (
    select string_agg(list_id || '@' || snapshot_date, ', ' order by list_id) as versions
    from latest_snapshots
)

select
    shipments.exporter_country,
    shipments.importer_country,
    shipments.declaration_month as month,
    shipments.hs6,
    controlled.control_tag,
    round(sum(shipments.statistical_value_usd), 2) as value_usd,
    round(sum(shipments.net_weight_kg), 2) as net_weight_kg,
    count(*) as shipments,
    count(distinct shipments.importer_inn) as importers,
    count(distinct shipments.exporter_name) as exporters,
    round(
        coalesce(
            sum(shipments.statistical_value_usd) filter (shipments.importer_listed_on_date), 0
        ),
        2
    ) as value_to_importers_listed_on_date,
    round(
        coalesce(sum(shipments.statistical_value_usd) filter (shipments.importer_listed_now), 0), 2
    ) as value_to_importers_listed_now,
    any_value(list_versions.versions) as sanctions_list_versions
from shipments
inner join controlled on shipments.hs6 = controlled.hs6
cross join list_versions
group by
    shipments.exporter_country,
    shipments.importer_country,
    shipments.declaration_month,
    shipments.hs6,
    controlled.control_tag
