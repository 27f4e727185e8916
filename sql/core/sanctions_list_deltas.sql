-- core.sanctions_list_deltas
-- Grain: one row per entry that was added, removed or changed between two consecutive accepted
-- snapshots of a list. Keys: list_id, to_snapshot, entry_id.
-- Both snapshots are compared as parsed by the same parser version, so every row here is a
-- change by the publisher; changes caused by a new parser are in audit.sanctions_parser_changes.
with snapshots as (
    select
        list_id,
        snapshot_date,
        seq,
        parser_version
    from core.sanctions_snapshots
),

aliases as (
    select
        list_id,
        snapshot_date,
        entry_id,
        list_sort(list(concat_ws('|', alias, alias_type, quality))) as aliases
    from staging.sanctions_aliases
    group by list_id, snapshot_date, entry_id
),

identifiers as (
    select
        list_id,
        snapshot_date,
        entry_id,
        list_sort(list(concat_ws(':', scheme, value))) as identifiers
    from staging.sanctions_identifiers
    group by list_id, snapshot_date, entry_id
),

addresses as (
    select
        list_id,
        snapshot_date,
        entry_id,
        list_sort(list(coalesce(address, ''))) as addresses
    from staging.sanctions_addresses
    group by list_id, snapshot_date, entry_id
),

versions as (
    select
        entries.list_id,
        snapshots.seq,
        snapshots.parser_version,
        entries.entry_id,
        entries.name,
        entries.entity_type,
        entries.programs,
        entries.countries,
        entries.listing_date,
        entries.remarks,
        coalesce(aliases.aliases, []) as aliases,
        coalesce(identifiers.identifiers, []) as identifiers,
        coalesce(addresses.addresses, []) as addresses
    from staging.sanctions_entries as entries
    inner join snapshots
        on
            entries.list_id = snapshots.list_id
            and entries.snapshot_date = snapshots.snapshot_date
    left join aliases
        on
            entries.list_id = aliases.list_id
            and entries.snapshot_date = aliases.snapshot_date
            and entries.entry_id = aliases.entry_id
    left join identifiers
        on
            entries.list_id = identifiers.list_id
            and entries.snapshot_date = identifiers.snapshot_date
            and entries.entry_id = identifiers.entry_id
    left join addresses
        on
            entries.list_id = addresses.list_id
            and entries.snapshot_date = addresses.snapshot_date
            and entries.entry_id = addresses.entry_id
),

pairs as (
    select
        later.list_id,
        later.seq,
        earlier.snapshot_date as from_snapshot,
        later.snapshot_date as to_snapshot
    from snapshots as later
    inner join snapshots as earlier
        on later.list_id = earlier.list_id and later.seq = earlier.seq + 1
),

old_side as (
    select
        pairs.seq as pair_seq,
        versions.*
    from pairs
    inner join versions on pairs.list_id = versions.list_id and versions.seq = pairs.seq - 1
),

new_side as (
    select
        pairs.seq as pair_seq,
        versions.*
    from pairs
    inner join versions on pairs.list_id = versions.list_id and pairs.seq = versions.seq
),

compared as (
    select
        coalesce(new_side.list_id, old_side.list_id) as list_id,
        coalesce(new_side.pair_seq, old_side.pair_seq) as pair_seq,
        coalesce(new_side.entry_id, old_side.entry_id) as entry_id,
        case
            when old_side.entry_id is null then 'ADDED'
            when new_side.entry_id is null then 'REMOVED'
            else 'CHANGED'
        end as change,
        -- list_distinct drops the nulls of the fields that did not change
        list_sort(list_distinct(
            [
                case when old_side.name is distinct from new_side.name then 'name' end,
                case
                    when old_side.entity_type is distinct from new_side.entity_type
                        then 'entity_type'
                end,
                case when old_side.programs is distinct from new_side.programs then 'programs' end,
                case
                    when old_side.countries is distinct from new_side.countries then 'countries'
                end,
                case
                    when old_side.listing_date is distinct from new_side.listing_date
                        then 'listing_date'
                end,
                case when old_side.remarks is distinct from new_side.remarks then 'remarks' end,
                case when old_side.aliases is distinct from new_side.aliases then 'aliases' end,
                case
                    when old_side.identifiers is distinct from new_side.identifiers
                        then 'identifiers'
                end,
                case
                    when old_side.addresses is distinct from new_side.addresses then 'addresses'
                end
            ]
        )) as changed_fields,
        case
            when old_side.entry_id is null or new_side.entry_id is null then 'publisher'
            when old_side.parser_version = new_side.parser_version then 'publisher'
            else 'parser'
        end as change_source,
        old_side.name as old_name,
        new_side.name as new_name,
        old_side.programs as old_programs,
        new_side.programs as new_programs
    from old_side
    full outer join new_side
        on
            old_side.list_id = new_side.list_id
            and old_side.pair_seq = new_side.pair_seq
            and old_side.entry_id = new_side.entry_id
)

select
    compared.list_id,
    pairs.from_snapshot,
    pairs.to_snapshot,
    compared.entry_id,
    compared.change,
    compared.change_source,
    compared.changed_fields,
    coalesce(compared.new_name, compared.old_name) as name,
    compared.old_name,
    compared.new_name,
    compared.old_programs,
    compared.new_programs
from compared
inner join pairs on compared.list_id = pairs.list_id and compared.pair_seq = pairs.seq
where compared.change <> 'CHANGED' or len(compared.changed_fields) > 0
