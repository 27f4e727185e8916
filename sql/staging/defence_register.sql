-- staging.defence_register
-- Grain: one row per company and register. Keys: inn, register.
-- Input: `validated`, the contract-typed rows of raw.defence_register.
with validated_rows as not materialized (
    select * from validated
)

select
    inn,
    inn_valid,
    name_ru,
    upper(register) as register,
    included_on,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
