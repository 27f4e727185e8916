-- core.shipments
-- Grain: one row per import declaration. Key: declaration_id.
-- Partitioned by month: declaration_month (a run rebuilds the months it covers).
-- Adds the importer's sanctions status on two clocks (on the declaration date, and now) from an
-- exact join on a valid INN; an INN that fails its check digits is never joined. The invoice
-- value is converted to USD with the month's rate (null when no rate was delivered).
with declarations as not materialized (
    select * from staging.customs_declarations
),

fx as not materialized (
    select * from staging.fx_rates
),

importer_listing as (
    select
        declarations.declaration_id,
        bool_or(
            periods.valid_from <= declarations.declaration_date
            and (periods.valid_to is null or declarations.declaration_date < periods.valid_to)
        ) as importer_listed_on_date,
        bool_or(periods.valid_to is null) as importer_listed_now,
        string_agg(
            distinct periods.list_id || ':' || periods.entry_id, ', '
            order by periods.list_id || ':' || periods.entry_id
        )
            as importer_list_entries
    from declarations
    inner join core.inn_listing_periods as periods
        on declarations.importer_inn = periods.inn
    where declarations.importer_inn_valid
    group by declarations.declaration_id
)

select
    declarations.declaration_id,
    declarations.declaration_date,
    declarations.declaration_month,
    declarations.importer_name,
    declarations.importer_inn,
    declarations.importer_inn_valid,
    declarations.importer_country,
    declarations.exporter_name,
    declarations.exporter_country,
    declarations.origin_country,
    declarations.dispatch_country,
    declarations.origin_country <> declarations.dispatch_country as routed_via_third_country,
    declarations.commodity_code,
    declarations.hs6,
    declarations.goods_description,
    declarations.statistical_value_usd,
    declarations.invoice_value,
    declarations.invoice_currency,
    case
        when declarations.invoice_currency = 'USD' then 1
        else fx.usd_per_unit
    end as fx_usd_per_unit,
    round(
        declarations.invoice_value::decimal(18, 2)
        * case
            when declarations.invoice_currency = 'USD' then 1
            else fx.usd_per_unit
        end,
        2
    ) as invoice_value_usd,
    declarations.net_weight_kg,
    declarations.quantity,
    declarations.quantity_unit,
    coalesce(importer_listing.importer_listed_on_date, false) as importer_listed_on_date,
    coalesce(importer_listing.importer_listed_now, false) as importer_listed_now,
    importer_listing.importer_list_entries,
    declarations.source_file,
    declarations.source_row_number
from declarations
left join importer_listing
    on declarations.declaration_id = importer_listing.declaration_id
left join fx
    on
        declarations.invoice_currency = fx.currency
        and declarations.declaration_month = fx.month_start
