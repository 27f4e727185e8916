-- core.published_trade_hs2022
-- Grain: one row per published statistic (as in staging.published_trade_statistics).
-- Keys: source_file, source_row_number.
-- Puts every HS-6 figure in HS 2022 terms before anything joins it with the control lists or
-- the customs data. The edition is the one the publisher names (UN Comtrade's H0..H6) or, for
-- publishers that do not name it (Taiwan customs, Eurostat), the one in force in the period:
-- HS 2022 from 2022, HS 2017 in 2017-2021, HS 2012 in 2012-2016. HS 2017 codes go through
-- staging.hs_concordance: a code whose goods all went to one HS 2022 code converts; a code that
-- was split, or that the concordance does not cover, or an older edition keeps a null hs6_2022
-- and says why in hs_conversion (a value cannot honestly be given to one of several codes).
-- Values stay in the currency the publisher used (currency, value_original; Eurostat: EUR),
-- beside value_usd, which is null where the publisher gave no USD figure: no exchange rate is
-- applied (the demo's rates are synthetic, and a real statistic must not be mixed with them).
with published as not materialized (
    select * from staging.published_trade_statistics
),

editions as (
    select
        *,
        case
            when hs_edition = 'H6' then 'HS2022'
            when hs_edition = 'H5' then 'HS2017'
            when hs_edition = 'H4' then 'HS2012'
            when hs_edition = 'H3' then 'HS2007'
            when hs_edition = 'H2' then 'HS2002'
            when hs_edition = 'H1' then 'HS1996'
            when hs_edition = 'H0' then 'HS1992'
            when period_start >= date '2022-01-01' then 'HS2022'
            when period_start >= date '2017-01-01' then 'HS2017'
            when period_start >= date '2012-01-01' then 'HS2012'
            when period_start >= date '2007-01-01' then 'HS2007'
        end as hs_edition_used
    from published
),

targets as (
    select
        hs2017,
        count(*) as hs2022_codes,
        any_value(hs2022) as hs2022
    from staging.hs_concordance
    group by hs2017
)

select
    editions.format,
    editions.reporter_country,
    editions.reporter_label,
    editions.reporter_is_aggregate,
    editions.partner_country,
    editions.partner_label,
    editions.partner_is_aggregate,
    editions.flow,
    editions.period_start,
    editions.period_end,
    editions.period_granularity,
    editions.product_code,
    editions.hs6,
    editions.hs_edition_used,
    case
        when editions.hs6 is null then null
        when editions.hs_edition_used = 'HS2022' then editions.hs6
        when editions.hs_edition_used = 'HS2017' and targets.hs2022_codes = 1
            then targets.hs2022
    end as hs6_2022,
    case
        when editions.hs6 is null then 'no HS-6 code'
        when editions.hs_edition_used = 'HS2022' then 'already HS 2022'
        when editions.hs_edition_used is null then 'edition unknown'
        when editions.hs_edition_used <> 'HS2017'
            then 'no concordance from ' || editions.hs_edition_used
        when targets.hs2017 is null then 'HS 2017 code not in the concordance'
        when targets.hs2022_codes = 1 then 'converted from HS 2017'
        else 'split over ' || targets.hs2022_codes || ' HS 2022 codes'
    end as hs_conversion,
    editions.value_usd,
    editions.value_eur,
    case
        when editions.value_usd is not null then 'USD'
        when editions.value_eur is not null then 'EUR'
    end as currency,
    coalesce(editions.value_usd, editions.value_eur) as value_original,
    editions.net_weight_kg,
    editions.source_file,
    editions.source_row_number
from editions
left join targets
    on editions.hs_edition_used = 'HS2017' and editions.hs6 = targets.hs2017
