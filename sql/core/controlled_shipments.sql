-- core.controlled_shipments
-- Grain: one row per shipment that a control measure concerns (core.shipment_controls).
-- Key: declaration_id.
-- Partitioned by month: declaration_date (a run rebuilds the months it covers).
-- The control measures of each such shipment, aggregated as marts.flagged_shipments states
-- them: its control tags; the measures in force that govern its export by HS code
-- (measures_in_force, and as text with their effective dates); and the measures in force where
-- it was made that it was re-exported after. Nothing here comes from a sanctions list, so a new
-- list version does not aggregate the control rows again.
select
    declaration_id,
    declaration_date,
    list_sort(list(distinct control_tag)) as control_tags,
    list_sort(list(distinct measure_id) filter (
        governs and after_effective and coverage = 'hs_code'
    )) as measures_in_force,
    string_agg(
        distinct measure_id || ' (effective ' || effective_from || ')', '; '
        order by measure_id || ' (effective ' || effective_from || ')'
    ) filter (
        governs and after_effective and coverage = 'hs_code'
    ) as measures_in_force_text,
    string_agg(
        distinct measure_id || ' (effective ' || effective_from || ')', '; '
        order by measure_id || ' (effective ' || effective_from || ')'
    ) filter (
        relation = 'reexported_via_third_country' and after_effective
        and coverage = 'hs_code'
    ) as reexported_after
from core.shipment_controls
group by declaration_id, declaration_date
