-- core.importer_years
-- Grain: one row per importer (by INN as declared) and year. Keys: importer_inn, year.
-- Rebuilt by year: year (a monthly run rebuilds the years of its months; each year's rows
--   depend on that year's rows only).
-- What marts.importer_profile says about an importer's year that no sanctions list changes:
-- what it imports, from where and from whom, its main dual-use flow, its revenue and whom it
-- sells to. The mart adds the listing status and the risk score, so that a new list version
-- rebuilds the mart from this table and core.shipment_listings, not from every declaration.
with shipments as not materialized (
    select
        *,
        year(declaration_date) as year
    from core.shipments
),

chpl as (
    -- by year too (a shipment's controls carry its date): a monthly run's year filter then
    -- reaches the controls instead of grouping every year's (10M declarations: 1.2 -> 0.85 s)
    select
        declaration_id,
        year(declaration_date) as year,
        min(control_tag) as chpl_tag
    from core.shipment_controls
    where jurisdiction = 'MULTI'
    group by declaration_id, year(declaration_date)
),

names as (
    -- the most frequent declared name; ties go to the alphabetically first, so rebuilds agree
    select
        importer_inn,
        year,
        first(importer_name order by declared desc, importer_name asc) as importer_name
    from (
        select
            importer_inn,
            year,
            importer_name,
            count(*) as declared
        from shipments
        group by importer_inn, year, importer_name
    ) as declared_names
    group by importer_inn, year
),

yearly as (
    select
        shipments.importer_inn,
        shipments.year,
        any_value(names.importer_name) as importer_name,
        bool_and(shipments.importer_inn_valid) as importer_inn_valid,
        count(*) as shipments,
        round(fsum(shipments.statistical_value_usd), 2) as total_imports_usd,
        round(
            coalesce(fsum(shipments.statistical_value_usd) filter (chpl.chpl_tag is not null), 0),
            2
        ) as dual_use_imports_usd,
        count(*) filter (shipments.routed_via_third_country) as shipments_via_third_country
    from shipments
    inner join names
        on shipments.importer_inn = names.importer_inn and shipments.year = names.year
    left join chpl
        on shipments.declaration_id = chpl.declaration_id and shipments.year = chpl.year
    group by shipments.importer_inn, shipments.year
),

by_origin as (
    select
        importer_inn,
        year,
        origin_country,
        fsum(statistical_value_usd) as value_usd
    from shipments
    group by importer_inn, year, origin_country
),

origin_shares as (
    select
        by_origin.importer_inn,
        by_origin.year,
        list(
            struct_pack(
                country := by_origin.origin_country,
                share := round(by_origin.value_usd / yearly.total_imports_usd, 4)
            )
            order by by_origin.value_usd desc
        ) as share_by_origin
    from by_origin
    inner join yearly
        on by_origin.importer_inn = yearly.importer_inn and by_origin.year = yearly.year
    group by by_origin.importer_inn, by_origin.year
),

by_supplier as (
    select
        importer_inn,
        year,
        exporter_name,
        fsum(statistical_value_usd) as value_usd,
        row_number() over (
            partition by importer_inn, year
            order by fsum(statistical_value_usd) desc, exporter_name asc
        ) as supplier_rank
    from shipments
    group by importer_inn, year, exporter_name
),

by_dual_use_flow as (
    select
        shipments.importer_inn,
        shipments.year,
        shipments.origin_country,
        chpl.chpl_tag,
        fsum(shipments.statistical_value_usd) as value_usd,
        row_number() over (
            partition by shipments.importer_inn, shipments.year
            order by fsum(shipments.statistical_value_usd) desc, shipments.origin_country asc
        ) as flow_rank
    from shipments
    inner join chpl
        on shipments.declaration_id = chpl.declaration_id and shipments.year = chpl.year
    group by shipments.importer_inn, shipments.year, shipments.origin_country, chpl.chpl_tag
),

revenue as (
    select
        inn,
        year,
        value_rub as revenue_rub
    from staging.financial_statements
    where line_code = '2110'
)

select
    yearly.*,
    origin_shares.share_by_origin,
    round(yearly.dual_use_imports_usd / yearly.total_imports_usd, 4) as dual_use_share,
    top_supplier.exporter_name as top_supplier,
    round(top_supplier.value_usd / yearly.total_imports_usd, 4) as top_supplier_share,
    main_flow.origin_country as main_dual_use_origin,
    main_flow.chpl_tag as main_dual_use_tag,
    round(coalesce(main_flow.value_usd, 0) / yearly.total_imports_usd, 4)
        as main_dual_use_share,
    revenue.revenue_rub,
    sales.sales_rub,
    sales.defence_sales_share,
    sales.defence_buyers
from yearly
inner join origin_shares
    on yearly.importer_inn = origin_shares.importer_inn and yearly.year = origin_shares.year
inner join by_supplier as top_supplier
    on
        yearly.importer_inn = top_supplier.importer_inn
        and yearly.year = top_supplier.year
        and top_supplier.supplier_rank = 1
left join by_dual_use_flow as main_flow
    on
        yearly.importer_inn = main_flow.importer_inn
        and yearly.year = main_flow.year
        and main_flow.flow_rank = 1
left join revenue
    on yearly.importer_inn = revenue.inn and yearly.year = revenue.year
left join core.company_sales as sales
    on yearly.importer_inn = sales.seller_inn and yearly.year = sales.year
