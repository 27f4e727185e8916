-- audit.sanctions_parser_changes
-- Grain: one row per entry of a snapshot whose normalized form a new parser version changed.
-- No key: each detection is appended (list_id, snapshot_date, entry_id, new_parser_version).
create table if not exists audit.sanctions_parser_changes (
    list_id varchar,
    snapshot_date date,
    entry_id varchar,
    change varchar,
    changed_fields varchar[],
    old_parser_version varchar,
    new_parser_version varchar,
    detected_at timestamp with time zone
);
