-- audit.held_deliveries
-- Grain: one row per delivery a run held because it would lose more rows than its contract
-- allows. No key: a file held again by a later run gets another row (run_id, dataset, sha256).
create table if not exists audit.held_deliveries (
    run_id varchar,
    dataset varchar,
    file varchar,
    sha256 varchar,
    previous_rows bigint,
    delivered_rows bigint,
    reason varchar,
    held_at timestamp with time zone
);
