-- core.sanctions_snapshots
-- Grain: one row per received list snapshot. Keys: list_id, snapshot_date.
-- Every file is kept and identified by its sha256; seq orders a list's snapshots in time.
with entries as (
    select * from staging.ofac_sdn_entries
),

snapshots as (
    select
        list_id,
        snapshot_date,
        source_sha256,
        parser_version,
        count(*) as entries
    from entries
    group by list_id, snapshot_date, source_sha256, parser_version
),

received as (
    select
        source_sha256,
        source_file,
        min(loaded_at) as received_at
    from raw.ofac_sdn
    group by source_sha256, source_file
)

select
    snapshots.list_id,
    snapshots.snapshot_date,
    row_number() over (
        partition by snapshots.list_id order by snapshots.snapshot_date
    ) as seq,
    snapshots.source_sha256,
    received.source_file,
    received.received_at,
    snapshots.parser_version,
    snapshots.entries
from snapshots
inner join received on snapshots.source_sha256 = received.source_sha256
