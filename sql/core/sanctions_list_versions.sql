-- core.sanctions_list_versions
-- Grain: one row. Key: none (a single row).
-- The latest snapshot of each sanctions list, written list@date and joined with ', ' in list
-- order: what a mart records as the list versions it was built from.
with latest_snapshots as (
    select
        list_id,
        max(snapshot_date) as snapshot_date
    from core.sanctions_snapshots
    group by list_id
)

select string_agg(list_id || '@' || snapshot_date, ', ' order by list_id) as versions
from latest_snapshots
