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

listed_inns as (
    select
        identifiers.value as inn,
        identifiers.list_id,
        identifiers.entry_id
    from core.sanctioned_identifiers as identifiers
    where identifiers.scheme = 'RU_INN' and identifiers.is_valid
),

importer_listing as (
    select
        declarations.declaration_id,
        bool_or(
            history.valid_from <= declarations.declaration_date
            and (history.valid_to is null or declarations.declaration_date < history.valid_to)
        ) as importer_listed_on_date,
        bool_or(history.valid_to is null) as importer_listed_now,
        string_agg(
            distinct listed_inns.list_id || ':' || listed_inns.entry_id, ', '
            order by listed_inns.list_id || ':' || listed_inns.entry_id
        )
            as importer_list_entries
    from declarations
    inner join listed_inns on declarations.importer_inn = listed_inns.inn
    inner join core.sanctions_list_history as history
        on
            listed_inns.list_id = history.list_id
            and listed_inns.entry_id = history.entry_id
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
