-- core.shipment_listings
-- Grain: one row per import declaration whose importer's valid INN was ever on a sanctions list.
-- Key: declaration_id.
-- Partitioned by month: declaration_month (a run rebuilds the months it covers).
-- The importer's sanctions status on two clocks (on the declaration date, and now), from an exact
-- join on a valid INN; an INN that fails its check digits is never joined. A declaration without
-- a row here is of an importer never listed. Kept apart from core.shipments so that a new list
-- version rewrites these few rows, not every declaration; the marts join the two.
with shipments as not materialized (
    select
        declaration_id,
        declaration_date,
        declaration_month,
        importer_inn
    from core.shipments
    where importer_inn_valid
)

select
    shipments.declaration_id,
    shipments.declaration_date,
    shipments.declaration_month,
    shipments.importer_inn,
    bool_or(
        periods.valid_from <= shipments.declaration_date
        and (periods.valid_to is null or shipments.declaration_date < periods.valid_to)
    ) as importer_listed_on_date,
    bool_or(periods.valid_to is null) as importer_listed_now,
    string_agg(
        distinct periods.list_id || ':' || periods.entry_id, ', '
        order by periods.list_id || ':' || periods.entry_id
    ) as importer_list_entries
from shipments
inner join core.inn_listing_periods as periods
    on shipments.importer_inn = periods.inn
group by
    shipments.declaration_id,
    shipments.declaration_date,
    shipments.declaration_month,
    shipments.importer_inn
