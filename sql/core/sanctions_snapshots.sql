-- core.sanctions_snapshots
-- Grain: one row per accepted list snapshot. Keys: list_id, snapshot_date.
-- seq orders a list's snapshots in time; fingerprint is the sha256 of each file received.
with main_files as (
    select
        list_id,
        snapshot_date,
        fingerprint,
        source_file,
        source_sha256,
        size_bytes,
        entries,
        received_at
    from raw.sanctions_files
    where entries is not null
),

parsed as (
    select
        list_id,
        snapshot_date,
        any_value(parser_version) as parser_version,
        count(*) as parsed_entries
    from staging.sanctions_entries
    group by list_id, snapshot_date
)

select
    main_files.list_id,
    main_files.snapshot_date,
    row_number() over (
        partition by main_files.list_id order by main_files.snapshot_date
    ) as seq,
    main_files.list_id || '@' || main_files.snapshot_date as list_version,
    main_files.source_file,
    main_files.source_sha256,
    main_files.fingerprint,
    main_files.size_bytes,
    main_files.received_at,
    parsed.parser_version,
    parsed.parsed_entries as entries
from main_files
inner join parsed
    on
        main_files.list_id = parsed.list_id
        and main_files.snapshot_date = parsed.snapshot_date
