-- audit.pending_delistings
-- Grain: one row per entry a held sanctions snapshot would delist.
-- Keys: list_id, snapshot_date, fingerprint, entry_id.
create table if not exists audit.pending_delistings (
    list_id varchar,
    snapshot_date date,
    fingerprint varchar,
    source_sha256 varchar,
    entry_id varchar,
    name varchar,
    linked_to varchar,
    reason varchar,
    held_at timestamp with time zone
);
