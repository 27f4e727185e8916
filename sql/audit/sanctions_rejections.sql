-- audit.sanctions_rejections
-- Grain: one row per sanctions-list snapshot the guard rejected.
-- Keys: list_id, snapshot_date, fingerprint.
create table if not exists audit.sanctions_rejections (
    list_id varchar,
    snapshot_date date,
    fingerprint varchar,
    files varchar,
    reason varchar,
    rejected_at timestamp with time zone
);
