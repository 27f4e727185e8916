-- marts.sanctions_list_changes
-- Grain: one row per list delta (entry added, removed or changed between two consecutive
-- snapshots). Keys: list_id, to_snapshot, entry_id.
-- Effect: the importers matched to the entry by a valid INN, and their shipments whose
-- "listed now" flag the change turned on (ADDED) or off (REMOVED).
with deltas as not materialized (
    select * from core.sanctions_list_deltas
),

entry_inns as (
    select distinct
        list_id,
        entry_id,
        value as inn
    from core.sanctioned_identifiers
    where scheme = 'RU_INN' and is_valid
),

importer_shipments as (
    select
        importer_inn,
        count(*) as shipments,
        fsum(statistical_value_usd) as value_usd
    from core.shipments
    where importer_inn_valid
    group by importer_inn
),

effects as (
    select
        entry_inns.list_id,
        entry_inns.entry_id,
        list_sort(list(distinct entry_inns.inn)) as matched_importer_inns,
        sum(importer_shipments.shipments) as shipments,
        fsum(importer_shipments.value_usd) as value_usd
    from entry_inns
    inner join importer_shipments on entry_inns.inn = importer_shipments.importer_inn
    group by entry_inns.list_id, entry_inns.entry_id
)

select
    deltas.list_id,
    deltas.from_snapshot,
    deltas.to_snapshot,
    deltas.entry_id,
    deltas.name,
    deltas.change,
    deltas.change_source,
    deltas.changed_fields,
    deltas.old_programs,
    deltas.new_programs,
    coalesce(effects.matched_importer_inns, []) as matched_importer_inns,
    coalesce(len(effects.matched_importer_inns), 0) as importers_affected,
    case
        when deltas.change in ('ADDED', 'REMOVED') then coalesce(effects.shipments, 0)::bigint
        else 0
    end as shipments_flag_changed,
    case
        when deltas.change in ('ADDED', 'REMOVED') then round(coalesce(effects.value_usd, 0), 2)
        else 0
    end as value_usd_flag_changed
from deltas
left join effects
    on deltas.list_id = effects.list_id and deltas.entry_id = effects.entry_id
