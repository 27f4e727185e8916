-- marts.importer_dual_use_monthly
-- Grain: importer x origin country x dispatch country x month x HS-6 x control measure x
-- after_effective. Keys: importer_inn, origin_country, dispatch_country, month, hs6, measure_id,
-- after_effective.
-- Partitioned by month: month (a run rebuilds the months it covers).
-- Controlled goods only, once under each measure that concerns them (core.shipment_controls),
-- so the story's questions are filters: "after Taiwan's 8 March 2024 step" is
-- measure_id = 'TW-2024-03-08' and after_effective. relation (core.shipment_controls) says
-- whether the measure governs the export (exported_from_jurisdiction: shipped from a country
-- whose exports it governs), or the goods were made there and re-exported from a third country
-- (reexported_via_third_country: not governed by it), or the measure is a joint list naming
-- goods from elsewhere as a priority (priority_list). Sum a measure's rows, not several
-- measures', to count each shipment once. importer_name is the name the importer declared most
-- often that month (core.importer_names).
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
    shipments.importer_inn,
    any_value(importer_names.importer_name) as importer_name,
    bool_and(shipments.importer_inn_valid) as importer_inn_valid,
    shipments.origin_country,
    shipments.dispatch_country,
    shipments.declaration_month as month,
    shipments.hs6,
    controls.measure_id,
    controls.control_tag,
    controls.jurisdiction,
    controls.authority,
    controls.reference,
    controls.announced_on,
    controls.effective_from,
    controls.coverage,
    controls.relation,
    controls.governs,
    controls.after_effective,
    round(fsum(shipments.statistical_value_usd), 2) as value_usd,
    round(fsum(shipments.net_weight_kg), 2) as net_weight_kg,
    count(*) as shipments,
    min(shipments.declaration_date) as first_shipment_date,
    max(shipments.declaration_date) as last_shipment_date,
    list_sort(list(distinct shipments.exporter_name)) as exporter_names,
    round(
        coalesce(
            fsum(shipments.statistical_value_usd) filter (shipments.importer_listed_on_date), 0
        ),
        2
    ) as value_importer_listed_on_date,
    bool_or(shipments.importer_listed_now) as importer_listed_now,
    any_value(sanctions_list_versions.versions) as sanctions_list_versions
from shipments
inner join controls
    on
        shipments.declaration_id = controls.declaration_id
        -- the same date (controls carry their shipment's): a month's run reads that month's
        and shipments.declaration_date = controls.declaration_date
inner join core.importer_names
    on
        shipments.importer_inn = importer_names.importer_inn
        and shipments.declaration_month = importer_names.declaration_month
cross join core.sanctions_list_versions
group by
    shipments.importer_inn,
    shipments.origin_country,
    shipments.dispatch_country,
    shipments.declaration_month,
    shipments.hs6,
    controls.measure_id,
    controls.control_tag,
    controls.jurisdiction,
    controls.authority,
    controls.reference,
    controls.announced_on,
    controls.effective_from,
    controls.coverage,
    controls.relation,
    controls.governs,
    controls.after_effective
