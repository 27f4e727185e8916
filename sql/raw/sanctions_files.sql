-- raw.sanctions_files
-- Grain: one row per file (part) of an accepted sanctions-list snapshot, kept byte for byte.
-- Keys: list_id, snapshot_date, part.
create table if not exists raw.sanctions_files (
    list_id varchar,
    snapshot_date date,
    part varchar,
    fingerprint varchar,
    source_file varchar,
    source_sha256 varchar,
    size_bytes bigint,
    entries bigint,
    content blob,
    received_at timestamp with time zone
);
