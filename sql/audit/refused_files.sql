-- audit.refused_files
-- Grain: one row per landing file a run refused (its name and why, nothing of its content).
-- No key: a file refused again by a later run gets another row (run_id tells them apart).
create table if not exists audit.refused_files (
    run_id varchar,
    dataset varchar,
    file varchar,
    reason varchar,
    refused_at timestamp with time zone
);
