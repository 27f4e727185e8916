-- staging.chpl_items
-- Grain: one row per HS-6 code on the Common High Priority List. Key: hs6.
-- Input: `validated`, the contract-typed rows of raw.chpl_items.
with validated_rows as not materialized (
    select * from validated
)

select
    hs6,
    chpl_tier,
    hs2022_description,
    $list_version::date as list_version,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
