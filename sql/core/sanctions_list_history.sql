-- core.sanctions_list_history
-- Grain: one row per validity interval of a list entry. Keys: list_id, entry_id, valid_from.
-- An interval runs over consecutive snapshots that contain the entry. valid_from is the source's
-- listing date when it gives one, else the first snapshot that had the entry; valid_to is the
-- first later snapshot without it (the delisting), null while the entry is still listed.
with presence as (
    select
        entries.list_id,
        entries.entry_id,
        entries.listing_date,
        snapshots.seq,
        snapshots.snapshot_date
    from staging.sanctions_entries as entries
    inner join core.sanctions_snapshots as snapshots
        on
            entries.list_id = snapshots.list_id
            and entries.snapshot_date = snapshots.snapshot_date
),

islands as (
    select
        *,
        seq - row_number() over (partition by list_id, entry_id order by seq) as island
    from presence
),

intervals as (
    select
        list_id,
        entry_id,
        island,
        min(seq) as first_seq,
        max(seq) as last_seq,
        min(snapshot_date) as first_seen,
        max(snapshot_date) as last_seen,
        min(listing_date) as listing_date
    from islands
    group by list_id, entry_id, island
)

select
    intervals.list_id,
    intervals.entry_id,
    coalesce(least(intervals.listing_date, intervals.first_seen), intervals.first_seen)
        as valid_from,
    next_snapshot.snapshot_date as valid_to,
    intervals.first_seen,
    intervals.last_seen,
    next_snapshot.snapshot_date as delisted_at,
    intervals.listing_date is not null as valid_from_is_listing_date
from intervals
left join core.sanctions_snapshots as next_snapshot
    on
        intervals.list_id = next_snapshot.list_id
        and intervals.last_seq + 1 = next_snapshot.seq
