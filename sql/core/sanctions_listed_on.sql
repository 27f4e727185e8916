-- core.sanctions_listed_on(list_id, entry_id, on_date): scalar macro, true when the entry was
-- listed on the date according to core.sanctions_list_history (validity intervals).
-- Usage: select core.sanctions_listed_on('ofac_sdn', '47497', date '2024-02-21');
create or replace macro core.sanctions_listed_on(p_list_id, p_entry_id, p_on) as (
    select coalesce(bool_or(valid_from <= p_on and (valid_to is null or p_on < valid_to)), false)
    from core.sanctions_list_history
    where list_id = p_list_id and entry_id = p_entry_id
)
