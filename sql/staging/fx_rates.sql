-- staging.fx_rates
-- Grain: one row per currency and month. Keys: currency, month_start.
-- Input: `validated`, the contract-typed rows of raw.fx_rates. USD itself needs no row.
with validated_rows as not materialized (
    select * from validated
)

select
    upper(currency) as currency,
    strptime(month || '-01', '%Y-%m-%d')::date as month_start,
    usd_per_unit::decimal(18, 8) as usd_per_unit,
    source,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
