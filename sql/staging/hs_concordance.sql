-- staging.hs_concordance
-- Grain: one row per HS 2017 code and HS 2022 code holding (some of) its goods.
-- Keys: hs2017, hs2022.
-- Input: `validated`, the contract-typed rows of raw.hs_concordance.
with validated_rows as not materialized (
    select * from validated
)

select
    hs2017,
    hs2022,
    relationship,
    note,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
