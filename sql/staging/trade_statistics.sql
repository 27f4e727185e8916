-- staging.trade_statistics
-- Grain: reporter_country x partner_country x flow x month x hs6, as the reporter published it.
-- Keys: reporter_country, partner_country, flow, period_month, hs6.
-- Input: `validated`, the contract-typed rows of raw.trade_statistics for the run's months.
with validated_rows as not materialized (
    select * from validated
),

shaped as (
    select
        upper(reporter_country) as reporter_country,
        upper(partner_country) as partner_country,
        flow,
        strptime(period || '-01', '%Y-%m-%d')::date as period_month,
        hs6,
        value_usd,
        net_weight_kg,
        source_file,
        source_sha256,
        source_row_number,
        loaded_at,
        partition_month
    from validated_rows
)

select * from shaped
