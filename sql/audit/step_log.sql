-- audit.step_log
-- Grain: one row per asset step of a run. No key: a log appended to by every step
-- (assets/common/warehouse.py, log_step); runs are told apart by run_id.
create table if not exists audit.step_log (
    run_id varchar,
    asset_key varchar,
    partition_key varchar,
    rows_received bigint,
    rows_written bigint,
    rows_quarantined bigint,
    logged_at timestamp with time zone
);
