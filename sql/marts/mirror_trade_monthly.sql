-- marts.mirror_trade_monthly
-- Grain: exporter country x importer country x month x HS-6. Keys: all four.
-- Partitioned by month: month (a run rebuilds the months it covers).
-- Mirror statistics: what the importer's customs recorded (CIF, by country of origin) against
-- what the exporting country reported (FOB, by destination). gap_usd = importer - exporter.
-- Gaps come from origin vs consignment country (transshipment), time lags, re-exports,
-- CIF/FOB and misclassification.
with importer_reported as (
    select
        origin_country as exporter_country,
        importer_country,
        declaration_month as month,
        hs6,
        fsum(statistical_value_usd) as importer_reported_usd,
        count(*) as shipments
    from core.shipments
    group by origin_country, importer_country, declaration_month, hs6
),

exporter_reported as (
    select
        reporter_country as exporter_country,
        partner_country as importer_country,
        period_month as month,
        hs6,
        fsum(value_usd) as exporter_reported_usd
    from staging.trade_statistics
    where flow = 'X'
    group by reporter_country, partner_country, period_month, hs6
),

controlled as (
    select
        hs6,
        list_sort(list(distinct control_tag)) as control_tags
    from core.control_list_items
    group by hs6
),

joined as (
    select
        coalesce(importer_reported.exporter_country, exporter_reported.exporter_country)
            as exporter_country,
        coalesce(importer_reported.importer_country, exporter_reported.importer_country)
            as importer_country,
        coalesce(importer_reported.month, exporter_reported.month) as month,
        coalesce(importer_reported.hs6, exporter_reported.hs6) as hs6,
        importer_reported.importer_reported_usd,
        exporter_reported.exporter_reported_usd,
        coalesce(importer_reported.shipments, 0) as shipments
    from importer_reported
    full outer join exporter_reported
        on
            importer_reported.exporter_country = exporter_reported.exporter_country
            and importer_reported.importer_country = exporter_reported.importer_country
            and importer_reported.month = exporter_reported.month
            and importer_reported.hs6 = exporter_reported.hs6
)

select
    joined.exporter_country,
    joined.importer_country,
    joined.month,
    joined.hs6,
    coalesce(controlled.control_tags, []) as control_tags,
    round(coalesce(joined.importer_reported_usd, 0), 2) as importer_reported_usd,
    round(coalesce(joined.exporter_reported_usd, 0), 2) as exporter_reported_usd,
    round(
        coalesce(joined.importer_reported_usd, 0) - coalesce(joined.exporter_reported_usd, 0), 2
    ) as gap_usd,
    round(joined.importer_reported_usd / nullif(joined.exporter_reported_usd, 0), 4) as ratio,
    joined.shipments
from joined
left join controlled on joined.hs6 = controlled.hs6
-- only destinations whose own customs data we hold
where joined.importer_country in (
    select distinct customs_countries.importer_country
    from core.shipments as customs_countries
)
