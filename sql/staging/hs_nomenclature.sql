-- staging.hs_nomenclature
-- Grain: one row per HS code (levels 2, 4, 6) plus the TOTAL root. Key: hscode.
-- Input: `validated`, the contract-typed rows of raw.hs_nomenclature.
with validated_rows as not materialized (
    select * from validated
)

select
    hscode,
    level,
    parent,
    section,
    description,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
