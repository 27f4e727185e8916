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
        shipments.*,
        coalesce(listings.importer_listed_on_date, false) as importer_listed_on_date,
        coalesce(listings.importer_listed_now, false) as importer_listed_now,
        listings.importer_list_entries,
        year(shipments.declaration_date) as year
    from core.shipments as shipments
    left join core.shipment_listings as listings
        on
            shipments.declaration_id = listings.declaration_id
            and shipments.declaration_date = listings.declaration_date
),

controls as not materialized (
    select * from core.controlled_shipments
),

defence_sellers as not materialized (
    select
        seller_inn,
        year,
        defence_sales_share
    from core.company_sales
    where defence_sales_share >= 0.5
),

-- every shipment once, with what each reason needs: one pass, so that a run over some months
-- reads only those months' rows
shipment_facts as (
    select
        shipments.*,
        controls.control_tags,
        controls.measures_in_force,
        controls.measures_in_force_text,
        controls.reexported_after,
        controls.declaration_id is not null as concerned_by_controls,
        defence_sellers.defence_sales_share,
        defence_sellers.year as sales_year
    from shipments
    left join controls
        on
            shipments.declaration_id = controls.declaration_id
            and shipments.declaration_date = controls.declaration_date
    left join defence_sellers
        on
            shipments.importer_inn = defence_sellers.seller_inn
            and shipments.year = defence_sellers.year
),

flags as (
    select
        *,
        unnest([
            case when importer_listed_on_date then {
                'reason': 'listed_at_shipment',
                'evidence': 'importer INN on ' || importer_list_entries || ' on '
                || declaration_date
            } end,
            case when importer_listed_now and not importer_listed_on_date then {
                'reason': 'listed_later',
                'evidence': 'importer INN on ' || importer_list_entries || ' now, not on '
                || declaration_date
            } end,
            case when measures_in_force_text is not null then {
                'reason': 'controlled_after_effective',
                'evidence': 'HS ' || hs6 || ' from ' || origin_country || ' under '
                || measures_in_force_text
            } end,
            case when concerned_by_controls and defence_sales_share is not null then {
                'reason': 'defence_end_user',
                'evidence': 'importer sold ' || round(100 * defence_sales_share, 1) || '% of its '
                || sales_year || ' sales to defence-register buyers'
            } end,
            case when concerned_by_controls and routed_via_third_country then {
                'reason': 'routed_via_third_country',
                'evidence': 'made in ' || origin_country || ', dispatched from '
                || dispatch_country || ' by an exporter in ' || exporter_country
                || coalesce(
                    '; re-exported after ' || reexported_after
                    || ' took effect where the goods were made (it governs exports from there '
                    || 'only)',
                    ''
                )
            } end
        ]) as flag
    from shipment_facts
    where importer_listed_on_date or importer_listed_now or concerned_by_controls
)

select
    flags.declaration_id,
    struct_extract(flags.flag, 'reason') as reason,
    struct_extract(flags.flag, 'evidence') as evidence,
    flags.declaration_date,
    flags.importer_name,
    flags.importer_inn,
    flags.importer_inn_valid,
    flags.exporter_name,
    flags.exporter_country,
    flags.origin_country,
    flags.dispatch_country,
    flags.commodity_code,
    flags.hs6,
    flags.control_tags,
    coalesce(flags.measures_in_force, []) as measures_in_force,
    flags.goods_description,
    flags.statistical_value_usd,
    flags.importer_list_entries,
    flags.source_file,
    flags.source_row_number
from flags
where flags.flag is not null
