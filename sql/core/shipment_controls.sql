-- core.shipment_controls
-- Grain: one row per shipment and control measure covering its HS-6. Keys: declaration_id,
-- measure_id. applies_to_origin: the measure binds the goods' origin country (its own export
-- control) or is a joint list (MULTI); after_effective: shipped on or after it took effect;
-- coverage: hs_code (the code is controlled) or specification (goods under it may be).
with shipments as (
    select
        declaration_id,
        declaration_date,
        origin_country,
        hs6
    from core.shipments
),

controls as not materialized (
    select * from core.control_list_items
)

select
    shipments.declaration_id,
    controls.measure_id,
    controls.control_tag,
    controls.jurisdiction,
    controls.announced_on,
    controls.effective_from,
    controls.coverage,
    controls.jurisdiction in ('MULTI', shipments.origin_country) as applies_to_origin,
    shipments.declaration_date >= controls.effective_from as after_effective
from shipments
inner join controls on shipments.hs6 = controls.hs6
