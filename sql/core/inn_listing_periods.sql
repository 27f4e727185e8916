-- core.inn_listing_periods
-- Grain: one row per listing period of a list entry that carries a valid Russian INN.
-- Keys: inn, list_id, entry_id, valid_from.
-- The one place "was this INN on a list on that date" is joined from: an exact match on the INN,
-- and an INN that fails its check digits never appears. core.shipments (importers) and
-- marts.counterparty_sales (buyers) test their dates against valid_from and valid_to.
with listed_inns as (
    select distinct
        identifiers.value as inn,
        identifiers.list_id,
        identifiers.entry_id
    from core.sanctioned_identifiers as identifiers
    where identifiers.scheme = 'RU_INN' and identifiers.is_valid
)

select
    listed_inns.inn,
    listed_inns.list_id,
    listed_inns.entry_id,
    history.valid_from,
    history.valid_to
from listed_inns
inner join core.sanctions_list_history as history
    on
        listed_inns.list_id = history.list_id
        and listed_inns.entry_id = history.entry_id
order by listed_inns.inn, listed_inns.list_id, listed_inns.entry_id, history.valid_from
