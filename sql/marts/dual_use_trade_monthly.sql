-- marts.dual_use_trade_monthly
-- Grain: exporter country x importer country x origin country x month x HS-6 x control tag.
-- Keys: exporter_country, importer_country, origin_country, month, hs6, control_tag.
-- Partitioned by month: month (a run rebuilds the months it covers).
-- Only goods on a control list, under the measures that concern them (core.shipment_controls:
-- a national measure concerns goods shipped from or made in its country; a joint list such as
-- the CHPL, every route); a code under several measures appears once per tag.
-- value_after_control_effective: shipped on or after the measure took effect, from a country
-- whose exports it governs; value_reexported_after_control_effective: made in such a country
-- and re-exported from another on or after that date.
-- control_coverage 'specification' marks a step that controls goods by technical specification:
-- its values are of goods that may, not must, have been controlled.
with shipments as not materialized (
    select
        shipments.*,
        coalesce(listings.importer_listed_on_date, false) as importer_listed_on_date,
        coalesce(listings.importer_listed_now, false) as importer_listed_now
    from core.shipments as shipments
    left join core.shipment_listings as listings
        on
            shipments.declaration_id = listings.declaration_id
            and shipments.declaration_date = listings.declaration_date
),

controls as not materialized (
    select * from core.shipment_controls
)

select
    shipments.exporter_country,
    shipments.importer_country,
    shipments.origin_country,
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
                controls.governs and controls.after_effective
            ),
            0
        ),
        2
    ) as value_after_control_effective,
    round(
        coalesce(
            fsum(shipments.statistical_value_usd) filter (
                controls.relation = 'reexported_via_third_country' and controls.after_effective
            ),
            0
        ),
        2
    ) as value_reexported_after_control_effective,
    any_value(sanctions_list_versions.versions) as sanctions_list_versions
from shipments
inner join controls
    on
        shipments.declaration_id = controls.declaration_id
        -- the same date (controls carry their shipment's): a month's run reads that month's
        and shipments.declaration_date = controls.declaration_date
cross join core.sanctions_list_versions
group by
    shipments.exporter_country,
    shipments.importer_country,
    shipments.origin_country,
    shipments.declaration_month,
    shipments.hs6,
    controls.control_tag,
    controls.coverage
