-- staging.financial_statements
-- Grain: one row per company, year and statement line. Keys: inn, year, line_code.
-- Input: `validated`, the contract-typed rows of raw.financial_statements.
with validated_rows as not materialized (
    select * from validated
)

select
    inn,
    inn_valid,
    year,
    line_code,
    value_thousand_rub,
    value_thousand_rub * 1000 as value_rub,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
