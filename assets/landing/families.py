"""The source families: which datasets one delivery sensor watches and one job loads.

Kept free of Dagster imports so that the command line can list them quickly.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """A source family: the datasets one sensor watches and one job loads."""

    name: str
    datasets: tuple[str, ...]
    description: str
    # the layer of the asset that reads a delivered file (its key is [layer, dataset])
    first_layer: str = "raw"

    @property
    def job_name(self) -> str:
        return f"load_{self.name}"


FAMILIES = (
    Family("customs", ("customs_declarations",), "customs declarations, one file per month"),
    Family("trade_statistics", ("trade_statistics",), "bilateral trade statistics by month"),
    Family(
        "tax",
        ("company_registry", "financial_statements", "sales_invoices", "defence_register"),
        "company registry, financial statements, sales invoices, defence-industry register",
    ),
    Family("fx_rates", ("fx_rates",), "monthly exchange rates"),
    Family(
        "control_lists",
        ("hs_nomenclature", "hs_concordance", "chpl_items", "control_measures"),
        "control lists and the HS nomenclature (bundled reference data)",
    ),
    Family("decisions", ("match_decisions",), "analysts' screening decisions"),
    Family(
        "published_statistics",
        ("published_trade_statistics",),
        "published trade statistics (UN Comtrade, Taiwan customs, Eurostat extracts)",
        first_layer="staging",
    ),
)
