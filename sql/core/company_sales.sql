-- core.company_sales
-- Grain: one row per selling company and year. Keys: seller_inn, year.
-- Share of sales to defence buyers (companies on the defence-industry register), the measure
-- the investigation used. Amounts in roubles from sales invoices.
with invoices as not materialized (
    select * from staging.sales_invoices
),

defence as (
    select distinct inn from staging.defence_register
)

select
    invoices.seller_inn,
    invoices.invoice_year as year,
    count(*) as invoices,
    count(distinct invoices.buyer_inn) as buyers,
    count(distinct defence.inn) as defence_buyers,
    round(fsum(invoices.amount_rub), 2) as sales_rub,
    round(coalesce(fsum(invoices.amount_rub) filter (defence.inn is not null), 0), 2)
        as defence_sales_rub,
    round(
        coalesce(fsum(invoices.amount_rub) filter (defence.inn is not null), 0)
        / fsum(invoices.amount_rub),
        6
    ) as defence_sales_share
from invoices
left join defence on invoices.buyer_inn = defence.inn
group by invoices.seller_inn, invoices.invoice_year
