-- core.sanctions_entries
-- Grain: one row per list entry ever seen. Keys: list_id, entry_id.
-- Attributes come from the latest snapshot that contained the entry.
with latest_version as (
    select
        entries.*,
        row_number() over (
            partition by entries.list_id, entries.entry_id order by entries.snapshot_date desc
        ) as recency
    from staging.sanctions_entries as entries
),

spans as (
    select
        list_id,
        entry_id,
        min(valid_from) as first_listed,
        bool_or(valid_to is null) as listed_now
    from core.sanctions_list_history
    group by list_id, entry_id
)

select
    latest_version.list_id,
    latest_version.entry_id,
    latest_version.name,
    latest_version.entity_type,
    latest_version.programs,
    latest_version.countries,
    latest_version.listing_date,
    latest_version.remarks,
    spans.first_listed,
    spans.listed_now,
    latest_version.snapshot_date as last_seen
from latest_version
inner join spans
    on
        latest_version.list_id = spans.list_id
        and latest_version.entry_id = spans.entry_id
where latest_version.recency = 1
