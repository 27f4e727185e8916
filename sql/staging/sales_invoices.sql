-- staging.sales_invoices
-- Grain: one row per invoice. Key: invoice_id.
-- Input: `validated`, the contract-typed rows of raw.sales_invoices.
with validated_rows as not materialized (
    select * from validated
)

select
    invoice_id,
    invoice_date,
    year(invoice_date) as invoice_year,
    seller_inn,
    seller_inn_valid,
    buyer_inn,
    buyer_inn_valid,
    amount_rub,
    source_file,
    source_sha256,
    source_row_number,
    loaded_at
from validated_rows
