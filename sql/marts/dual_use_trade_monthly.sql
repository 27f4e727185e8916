-- marts.dual_use_trade_monthly
-- Grain: exporter country x importer country x month x HS-6 x control tag.
-- Keys: exporter_country, importer_country, month, hs6, control_tag.
-- Partitioned by month: month (a run rebuilds the months it covers).
-- Only goods on a control list; a code under several measures appears once per tag.
-- value_after_control_effective counts shipments made on or after the measure took effect,
-- where the measure binds the goods' origin country (or is a joint list such as the CHPL).
-- control_coverage 'specification' marks a step that controls goods by technical specification:
-- its values are of goods that may, not must, have been controlled.
with shipments as not materialized (
    select * from core.shipments
),

controls as not materialized (
    select * from core.shipment_controls
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
    controls.control_tag,
    controls.coverage as control_coverage,
    round(fsum(shipments.statistical_value_usd), 2) as value_usd,
    round(fsum(shipments.net_weight_kg), 2) as net_weight_kg,
    count(*) as shipments,
    count(distinct shipments.importer_inn) as importers,
    count(distinct shipments.exporter_name) as exporters,
    round(
        coalesce(
            fsum(shipments.statistical_value_usd) filter (shipments.importer_listed_on_date), 0
        ),
        2
    ) as value_to_importers_listed_on_date,
    round(
        coalesce(fsum(shipments.statistical_value_usd) filter (shipments.importer_listed_now), 0), 2
    ) as value_to_importers_listed_now,
    round(
        coalesce(
            fsum(shipments.statistical_value_usd) filter (
                controls.applies_to_origin and controls.after_effective
            ),
            0
        ),
        2
    ) as value_after_control_effective,
    any_value(list_versions.versions) as sanctions_list_versions
from shipments
inner join controls on shipments.declaration_id = controls.declaration_id
cross join list_versions
group by
    shipments.exporter_country,
    shipments.importer_country,
    shipments.declaration_month,
    shipments.hs6,
    controls.control_tag,
    controls.coverage
