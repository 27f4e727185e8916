-- core.shipment_controls
-- Grain: one row per shipment and control measure that concerns it. Keys: declaration_id,
-- measure_id.
-- Partitioned by month: declaration_date (a run rebuilds the months it covers).
-- relation says how the measure concerns the shipment, following the countries whose exports
-- it governs (governs_exports_from: the imposing country; for a joint list, its authors'):
--   exported_from_jurisdiction: dispatched from one of those countries, so the measure governs
--     the export, whatever the goods' origin;
--   reexported_via_third_country: made in one of those countries and dispatched from another;
--     the measure does not govern that export (its exporter is not bound by it): a sign of
--     possible circumvention;
--   priority_list: neither, under a joint list such as the CHPL (jurisdiction MULTI): the goods
--     are among those its authors ask everyone to watch; it governs nothing by itself.
-- A national measure of a country that neither made nor shipped the goods does not concern them
-- (no row). governs: relation is exported_from_jurisdiction. after_effective: shipped on or after
-- the measure took effect. coverage: hs_code (the code is controlled) or specification (goods
-- under it may be).
with shipments as (
    select
        declaration_id,
        declaration_date,
        origin_country,
        dispatch_country,
        hs6
    from core.shipments
),

controls as not materialized (
    select * from core.control_list_items
),

related as (
    select
        shipments.declaration_id,
        shipments.declaration_date,
        controls.*,
        case
            when list_contains(controls.governs_exports_from, shipments.dispatch_country)
                then 'exported_from_jurisdiction'
            when list_contains(controls.governs_exports_from, shipments.origin_country)
                then 'reexported_via_third_country'
            when controls.jurisdiction = 'MULTI' then 'priority_list'
        end as relation
    from shipments
    inner join controls on shipments.hs6 = controls.hs6
)

select
    declaration_id,
    declaration_date,
    measure_id,
    control_tag,
    jurisdiction,
    authority,
    reference,
    announced_on,
    effective_from,
    coverage,
    relation,
    relation = 'exported_from_jurisdiction' as governs,
    declaration_date >= effective_from as after_effective
from related
where relation is not null
