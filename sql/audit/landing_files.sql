-- audit.landing_files
-- Grain: one row per file in the landing area, as the last run saw it. Key: path.
-- Emptied and refilled on every run (assets/landing).
create table if not exists audit.landing_files (
    run_id varchar,
    path varchar,
    dataset varchar,
    month varchar,
    size_bytes bigint,
    refused varchar,
    seen_at timestamp with time zone
);
