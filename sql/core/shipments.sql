-- core.shipments
-- Grain: one row per import declaration. Key: declaration_id.
-- Partitioned by month: declaration_month (a run rebuilds the months it covers).
-- The invoice value is converted to USD with the month's rate (null when no rate was delivered).
-- Holds nothing from the sanctions lists, so a new list version leaves it alone: the importer's
-- listing status is in core.shipment_listings.
with declarations as not materialized (
    select * from staging.customs_declarations
),

fx as not materialized (
    select * from staging.fx_rates
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
    declarations.source_file,
    declarations.source_row_number
from declarations
left join fx
    on
        declarations.invoice_currency = fx.currency
        and declarations.declaration_month = fx.month_start
