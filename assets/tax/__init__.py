"""Tax data: company registry, financial statements, sales invoices, defence-industry register."""

from assets.common.ingest import csv_source_assets
from assets.tax.egrul import egrul_records

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
defs.append(egrul_records)
