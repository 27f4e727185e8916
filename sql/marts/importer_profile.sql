-- marts.importer_profile
-- Grain: one row per importer (by INN as declared) and year. Keys: importer_inn, year.
-- Rebuilt by year: year (a monthly run rebuilds the years of its months; each year's rows,
--   ranks included, depend on that year's rows only).
-- The risk view: what an importer buys, from where, whether it was listed, and whom it sells to.
-- What no list changes comes from core.importer_years; the listing status from
-- core.shipment_listings (declarations of importers ever listed), so a new list version
-- rebuilds this table from those two, not from every declaration.
-- risk_score = main_dual_use_share x defence_sales_share x log10(1 + dual-use imports in USD),
--   plus 1 when the importer is listed now; risk_rank orders importers within a year (1 = top).
with listed as (
    select
        importer_inn,
        year(declaration_date) as year,
        count(*) filter (importer_listed_on_date) as shipments_while_listed,
        bool_or(importer_listed_now) as listed_now,
        min(importer_list_entries) as list_entries
    from core.shipment_listings
    group by importer_inn, year(declaration_date)
),

scored as (
    select
        importer_years.importer_inn,
        importer_years.year,
        importer_years.importer_name,
        importer_years.importer_inn_valid,
        importer_years.shipments,
        importer_years.total_imports_usd,
        importer_years.dual_use_imports_usd,
        importer_years.shipments_via_third_country,
        coalesce(listed.shipments_while_listed, 0) as shipments_while_listed,
        coalesce(listed.listed_now, false) as listed_now,
        listed.list_entries,
        importer_years.share_by_origin,
        importer_years.dual_use_share,
        importer_years.top_supplier,
        importer_years.top_supplier_share,
        importer_years.main_dual_use_origin,
        importer_years.main_dual_use_tag,
        importer_years.main_dual_use_share,
        importer_years.revenue_rub,
        importer_years.sales_rub,
        importer_years.defence_sales_share,
        importer_years.defence_buyers,
        round(
            importer_years.main_dual_use_share
            * coalesce(importer_years.defence_sales_share, 0)
            * log10(1 + importer_years.dual_use_imports_usd)
            + case when coalesce(listed.listed_now, false) then 1 else 0 end,
            4
        ) as risk_score
    from core.importer_years
    left join listed
        on importer_years.importer_inn = listed.importer_inn and importer_years.year = listed.year
)

select
    *,
    row_number() over (partition by year order by risk_score desc, importer_inn asc) as risk_rank
from scored
