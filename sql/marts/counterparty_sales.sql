-- marts.counterparty_sales
-- Grain: seller x buyer x month of the sales invoices. Keys: seller_inn, buyer_inn, month.
-- Whom an importer sells to: each buyer's resolved name, whether it is on the defence-industry
-- register (now, and the amount invoiced once it was on it), and whether it was on a sanctions
-- list on the invoice date or is now (exact join on a valid INN; an INN that fails its check
-- digits is never joined). Amounts in roubles as invoiced.
with invoices as not materialized (
    select * from staging.sales_invoices
),

companies as not materialized (
    select * from core.companies
),

invoice_listing as (
    select
        invoices.invoice_id,
        bool_or(
            periods.valid_from <= invoices.invoice_date
            and (periods.valid_to is null or invoices.invoice_date < periods.valid_to)
        ) as buyer_listed_on_date
    from invoices
    inner join core.inn_listing_periods as periods on invoices.buyer_inn = periods.inn
    where invoices.buyer_inn_valid
    group by invoices.invoice_id
)

select
    invoices.seller_inn,
    any_value(coalesce(sellers.customs_name, sellers.name_ru)) as seller_name,
    invoices.buyer_inn,
    any_value(coalesce(buyers.name_ru, buyers.customs_name)) as buyer_name,
    bool_and(invoices.buyer_inn_valid) as buyer_inn_valid,
    date_trunc('month', invoices.invoice_date)::date as month,
    count(*) as invoices,
    round(fsum(invoices.amount_rub), 2) as amount_rub,
    coalesce(any_value(buyers.in_defence_register), false) as buyer_in_defence_register,
    round(
        coalesce(
            fsum(invoices.amount_rub) filter (
                buyers.defence_register_since <= invoices.invoice_date
            ),
            0
        ),
        2
    ) as amount_rub_buyer_in_register_on_date,
    round(
        coalesce(fsum(invoices.amount_rub) filter (invoice_listing.buyer_listed_on_date), 0), 2
    ) as amount_rub_buyer_listed_on_date,
    coalesce(any_value(buyers.listed_now and buyers.inn_valid), false) as buyer_listed_now,
    any_value(buyers.list_entries) as buyer_list_entries
from invoices
left join companies as sellers on invoices.seller_inn = sellers.inn
left join companies as buyers on invoices.buyer_inn = buyers.inn
left join invoice_listing on invoices.invoice_id = invoice_listing.invoice_id
group by invoices.seller_inn, invoices.buyer_inn, date_trunc('month', invoices.invoice_date)::date
