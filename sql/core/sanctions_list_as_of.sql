-- core.sanctions_list_as_of(list_id, as_of_date): table macro.
-- Grain: one row per entry of the list as it was known on the date, i.e. as published in the
-- latest accepted snapshot dated on or before it. Empty before the list's first snapshot.
-- Usage: select * from core.sanctions_list_as_of('ofac_sdn', date '2024-02-21');
create or replace macro core.sanctions_list_as_of(p_list_id, p_as_of) as table
    with in_force as (
        select
            list_id,
            max(snapshot_date) as snapshot_date
        from core.sanctions_snapshots
        where list_id = p_list_id and snapshot_date <= p_as_of
        group by list_id
    )

    select entries.*
    from staging.sanctions_entries as entries
    inner join in_force
        on
            entries.list_id = in_force.list_id
            and entries.snapshot_date = in_force.snapshot_date
