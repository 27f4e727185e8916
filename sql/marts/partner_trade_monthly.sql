-- marts.partner_trade_monthly
-- Grain: source x reporter x partner x flow x month x product, from real published statistics.
-- Keys: source, reporter, partner, flow, month, product_code.
-- Monthly figures only (annual and part-year ones stay in core.published_trade_hs2022), in the
-- publisher's currency (value, currency) beside value_usd (null where the publisher gave none;
-- no exchange rate is applied). index_2019_2021 = 100 x value / the series' average month in
-- 2019-2021, the baseline before the 2022 controls; null when the baseline has fewer than 12
-- months or averages zero. A series is one source, reporter, partner, flow and product.
-- reporter and partner are ISO alpha-2 codes or aggregate codes (EU27_2020, WORLD, ...);
-- reporter_is_aggregate marks totals such as EU27 that must not be added to their members.
with published as not materialized (
    select
        format as source,
        coalesce(reporter_country, reporter_label) as reporter,
        reporter_label,
        reporter_is_aggregate,
        coalesce(partner_country, partner_label) as partner,
        partner_label,
        flow,
        period_start as month,
        product_code,
        hs6_2022,
        currency,
        value_original,
        value_usd,
        source_file,
        source_row_number
    from core.published_trade_hs2022
    where period_granularity = 'month'
),

baselines as (
    select
        source,
        reporter,
        partner,
        flow,
        product_code,
        count(*) as baseline_months,
        avg(value_original) as baseline_monthly_value
    from published
    where month between date '2019-01-01' and date '2021-12-01'
    group by source, reporter, partner, flow, product_code
)

select
    published.source,
    published.reporter,
    published.reporter_label,
    published.reporter_is_aggregate,
    published.partner,
    published.partner_label,
    published.flow,
    published.month,
    published.product_code,
    published.hs6_2022,
    published.currency,
    published.value_original as value,
    published.value_usd,
    round(baselines.baseline_monthly_value, 2) as baseline_monthly_value,
    case
        when baselines.baseline_months >= 12 and baselines.baseline_monthly_value > 0
            then round(100 * published.value_original / baselines.baseline_monthly_value, 1)
    end as index_2019_2021,
    published.source_file,
    published.source_row_number
from published
left join baselines
    on
        published.source = baselines.source
        and published.reporter = baselines.reporter
        and published.partner = baselines.partner
        and published.flow = baselines.flow
        and published.product_code = baselines.product_code
