-- staging.match_decisions
-- Grain: one row per reviewed pair. Keys: party_key, list_id, entry_id.
-- Input: `validated`, the contract-typed rows of raw.match_decisions.
with validated_rows as not materialized (
    select * from validated
)

select
    party_key,
    list_id,
    entry_id,
    decision,
    reviewer,
    reviewed_at,
    note,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
