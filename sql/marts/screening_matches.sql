-- marts.screening_matches
-- Grain: one row per screened party (a Russian company, or a foreign exporter) and candidate list
-- entry the screening kept (match or possible). Keys: party_key, list_id, entry_id.
-- The analyst's reviewed decision, when there is one, overrides the automatic one and survives
-- every rebuild and list change (it is keyed by the party and the list's own entry id).
with candidates as not materialized (
    select * from core.entity_matches
),

reviews as not materialized (
    select * from staging.match_decisions
),

trade as (
    select
        importer_inn as party_key,
        count(*) as shipments,
        round(fsum(statistical_value_usd), 2) as value_usd
    from core.shipments
    group by importer_inn
    union all
    select
        exporter_name || '|' || exporter_country as party_key,
        count(*) as shipments,
        round(fsum(statistical_value_usd), 2) as value_usd
    from core.shipments
    group by exporter_name, exporter_country
)

select
    candidates.party_type,
    candidates.party_key,
    candidates.inn,
    candidates.party_name,
    candidates.party_country,
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
    coalesce(trade.shipments, 0) as shipments,
    coalesce(trade.value_usd, 0) as shipments_usd
from candidates
left join reviews
    on
        candidates.party_key = reviews.party_key
        and candidates.list_id = reviews.list_id
        and candidates.entry_id = reviews.entry_id
left join trade on candidates.party_key = trade.party_key
