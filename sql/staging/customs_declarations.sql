-- staging.customs_declarations
-- Grain: one row per import declaration that passed its contract.
-- Key: declaration_id (unique within a monthly file; across files see core.shipments).
-- Input: `validated`, the contract-typed rows of raw.customs_declarations for the run's months.
with validated_rows as not materialized (
    select * from validated
),

shaped as (
    select
        declaration_id,
        declaration_date,
        date_trunc('month', declaration_date)::date as declaration_month,
        upper(importer_name) as importer_name,
        importer_inn,
        importer_inn_valid,
        $importer_country as importer_country,
        upper(exporter_name) as exporter_name,
        upper(exporter_country) as exporter_country,
        upper(origin_country) as origin_country,
        upper(dispatch_country) as dispatch_country,
        commodity_code,
        left(commodity_code, 6) as hs6,
        goods_description,
        invoice_value,
        upper(invoice_currency) as invoice_currency,
        statistical_value_usd,
        net_weight_kg,
        quantity,
        quantity_unit,
        source_file,
        source_sha256,
        source_row_number,
        loaded_at,
        partition_month
    from validated_rows
)

select * from shaped
