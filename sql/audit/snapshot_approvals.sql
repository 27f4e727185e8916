-- audit.snapshot_approvals
-- Grain: one row per approval applied to a held sanctions snapshot. Keys: list_id,
-- snapshot_sha256. The approval file's columns (contract snapshot_approvals), then what the
-- approval released.
create table if not exists audit.snapshot_approvals (
    list_id varchar,
    snapshot_sha256 varchar,
    reviewer varchar,
    approved_on date,
    note varchar,
    snapshot_date date,
    fingerprint varchar,
    entries_removed bigint,
    reason varchar,
    applied_at timestamp with time zone
);
