-- staging.control_measures
-- Grain: one row per control measure (list step) and HS-6 code. Keys: measure_id, hs6.
-- Input: `validated`, the contract-typed rows of raw.control_measures.
with validated_rows as not materialized (
    select * from validated
)

select
    measure_id,
    jurisdiction,
    governs_exports_from,
    authority,
    list_name,
    reference,
    announced_on,
    effective_from,
    hs6,
    hs_edition,
    control_tag,
    source,
    coverage,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
