-- audit.publications
-- Grain: one row per publishing run. Key: run_id (a retried attempt first removes its row).
create table if not exists audit.publications (
    run_id varchar,
    published_at timestamp with time zone,
    published_path varchar,
    table_rows json,
    table_checksums json,
    git_commit varchar
);
