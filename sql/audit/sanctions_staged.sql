-- audit.sanctions_staged
-- Grain: one row per accepted snapshot in the staging tables: the bytes it was parsed from (the
-- fingerprint of raw.sanctions_files), the parser version, the digest of the parser's code and
-- its rows in the four staging tables.
-- Key: list_id, snapshot_date (written with the staging tables, in one transaction).
create table if not exists audit.sanctions_staged (
    list_id varchar,
    snapshot_date date,
    fingerprint varchar,
    parser_version varchar,
    parser_digest varchar,
    staged_rows bigint,
    staged_at timestamp with time zone
);
