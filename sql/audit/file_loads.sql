-- audit.file_loads
-- Grain: one row per landing file a raw step stored. No key: a file stored again by a later
-- run gets another row (dataset, file, sha256 name the version).
create table if not exists audit.file_loads (
    dataset varchar,
    file varchar,
    sha256 varchar,
    rows bigint,
    loaded_at timestamp with time zone
);
