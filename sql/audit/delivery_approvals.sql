-- audit.delivery_approvals
-- Grain: one row per approval applied to a held delivery (dataset, sha256, run_id).
-- The approval file's columns (contract delivery_approvals), then what the approval released.
create table if not exists audit.delivery_approvals (
    dataset varchar,
    file varchar,
    sha256 varchar,
    approved_by varchar,
    approved_on date,
    note varchar,
    run_id varchar,
    previous_rows bigint,
    delivered_rows bigint,
    applied_at timestamp with time zone
);
