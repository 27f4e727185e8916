-- marts.screening_matches
-- Grain: one row per company and candidate list entry the screening kept (match or possible).
-- Keys: inn, list_id, entry_id.
-- The analyst's reviewed decision, when there is one, overrides the automatic one and survives
-- every rebuild and list change (it is keyed by INN and the list's own entry id).
with candidates as (
    select * from core.entity_matches
),

reviews as (
    select * from staging.match_decisions
),

imports as (
    select
        importer_inn,
        count(*) as shipments,
        round(sum(statistical_value_usd), 2) as imports_usd
    from core.shipments
    group by importer_inn
)

select
    candidates.inn,
    candidates.company_name,
    candidates.list_id,
    candidates.list_version,
    candidates.entry_id,
    candidates.matched_name,
    candidates.matched_name_kind,
    candidates.score,
    candidates.decision as automatic_decision,
    reviews.decision as review_decision,
    reviews.reviewer,
    reviews.reviewed_at,
    reviews.note as review_note,
    coalesce(reviews.decision, candidates.decision) as final_decision,
    reviews.decision is not null as reviewed,
    candidates.explanation,
    coalesce(imports.shipments, 0) as shipments,
    coalesce(imports.imports_usd, 0) as imports_usd
from candidates
left join reviews
    on
        candidates.inn = reviews.inn
        and candidates.list_id = reviews.list_id
        and candidates.entry_id = reviews.entry_id
left join imports on candidates.inn = imports.importer_inn
