-- staging.company_registry
-- Grain: one row per company. Key: inn.
-- Input: `validated`, the contract-typed rows of raw.company_registry.
with validated_rows as not materialized (
    select * from validated
)

select
    inn,
    inn_valid,
    ogrn,
    ogrn_valid,
    kpp,
    name_ru,
    name_short_ru,
    okved,
    region_code,
    lower(status) as status,
    registered_on,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
