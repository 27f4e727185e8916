-- core.companies
-- Grain: one row per Russian company, resolved by INN across customs, the tax registry,
-- invoices and the defence register. Key: inn.
with declared_names as (
    select
        importer_inn,
        importer_name,
        count(*) as declared,
        bool_and(importer_inn_valid) as inn_valid
    from staging.customs_declarations
    group by importer_inn, importer_name
),

customs_names as (
    -- the most frequent declared name; ties go to the alphabetically first, so rebuilds agree
    select
        importer_inn as inn,
        first(importer_name order by declared desc, importer_name asc) as customs_name,
        bool_and(inn_valid) as inn_valid
    from declared_names
    group by importer_inn
),

invoice_parties as (
    select
        seller_inn as inn,
        seller_inn_valid as inn_valid
    from staging.sales_invoices
    union
    select
        buyer_inn as inn,
        buyer_inn_valid as inn_valid
    from staging.sales_invoices
),

registry as (
    -- the CSV registry first; EGRUL XML records (latest per company) fill in the rest
    select
        inn,
        ogrn,
        name_ru,
        okved,
        status,
        'company_registry' as registry_source
    from staging.company_registry
    union all
    select
        egrul.inn,
        egrul.ogrn,
        egrul.name_ru,
        egrul.okved,
        egrul.status,
        'egrul' as registry_source
    from (
        select
            *,
            row_number() over (
                partition by inn order by record_date desc nulls last, source_row_number desc
            ) as recency
        from staging.egrul_records
    ) as egrul
    where
        egrul.recency = 1
        and egrul.inn not in (select csv_registry.inn from staging.company_registry as csv_registry)
),

all_inns as (
    select
        inn,
        inn_valid
    from customs_names
    union
    select
        inn,
        inn_valid
    from staging.company_registry
    union
    select
        inn,
        inn_valid
    from staging.egrul_records
    union
    select
        inn,
        inn_valid
    from invoice_parties
    union
    select
        inn,
        inn_valid
    from staging.defence_register
),

listed as (
    select
        identifiers.value as inn,
        bool_or(entries.listed_now) as listed_now,
        min(entries.first_listed) as first_listed,
        string_agg(
            distinct identifiers.list_id || ':' || identifiers.entry_id, ', '
            order by identifiers.list_id || ':' || identifiers.entry_id
        )
            as list_entries
    from core.sanctioned_identifiers as identifiers
    inner join core.sanctions_entries as entries
        on
            identifiers.list_id = entries.list_id
            and identifiers.entry_id = entries.entry_id
    where identifiers.scheme = 'RU_INN' and identifiers.is_valid
    group by identifiers.value
),

defence as (
    select
        inn,
        min(included_on) as defence_register_since
    from staging.defence_register
    group by inn
)

select
    all_inns.inn,
    bool_and(all_inns.inn_valid) as inn_valid,
    any_value(registry.ogrn) as ogrn,
    any_value(registry.name_ru) as name_ru,
    any_value(customs_names.customs_name) as customs_name,
    any_value(registry.okved) as okved,
    any_value(registry.status) as registry_status,
    any_value(registry.registry_source) as registry_source,
    any_value(defence.inn) is not null as in_defence_register,
    any_value(defence.defence_register_since) as defence_register_since,
    coalesce(any_value(listed.listed_now), false) as listed_now,
    any_value(listed.first_listed) as first_listed,
    any_value(listed.list_entries) as list_entries
from all_inns
left join registry on all_inns.inn = registry.inn
left join customs_names on all_inns.inn = customs_names.inn
left join defence on all_inns.inn = defence.inn
left join listed on all_inns.inn = listed.inn and all_inns.inn_valid
group by all_inns.inn
