"""Tax data: company registry, financial statements, sales invoices, defence-industry register."""

from assets.common.ingest import csv_source_assets

defs = [
    definition
    for contract_id in (
        "company_registry",
        "financial_statements",
        "sales_invoices",
        "defence_register",
    )
    for definition in csv_source_assets(contract_id, group="tax")
]
