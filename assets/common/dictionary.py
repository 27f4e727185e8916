"""The data dictionary, written from the data contracts (never by hand)."""

from assets.common.contracts import Contract, list_contracts, load_contract

HEADER = """# Data dictionary

Generated from `data_contracts/` by `make dictionary`; do not edit by hand. A test fails when
this file and the contracts disagree.
"""


def render() -> str:
    """Markdown: one section per contract, one row per column."""
    parts = [HEADER]
    contracts = [load_contract(c) for c in list_contracts()]
    for contract in sorted(contracts, key=lambda c: c.physical_name):
        parts.append(f"\n## `{contract.physical_name}` ({contract.name})\n")
        if contract.description:
            parts.append(f"\n{' '.join(contract.description.split())}\n")
        if contract.primary_key:
            parts.append(
                f"\nKey: {', '.join(contract.primary_key)}. "
                f"Contract `{contract.id}` v{contract.version}.\n"
            )
        parts.append("\n| column | type | required | description |\n| --- | --- | --- | --- |\n")
        for column in contract.columns:
            kind = column.physical_type or column.logical_type
            rules = []
            if column.pattern:
                rules.append(f"pattern `{column.pattern}`")
            if column.minimum is not None:
                rules.append(f">= {column.minimum}")
            if column.reference_set:
                rules.append(f"in {column.reference_set}")
            if column.valid_values:
                rules.append(f"one of {', '.join(column.valid_values)}")
            text = " ".join(column.description.split())
            if rules:
                text += f" ({'; '.join(rules)})"
            text = text.replace("|", "\\|")
            required = "yes" if column.required else ""
            parts.append(f"| {column.name} | {kind.replace('|', '/')} | {required} | {text} |\n")
        parts += _dataset_rules(contract)
    return "".join(parts)


def _dataset_rules(contract: Contract) -> list[str]:
    """The rules that judge a row against more than its own file, one line each."""
    lines = []
    for rule in contract.custom.get("datasetRules") or []:
        settings = ", ".join(f"{k}: {v}" for k, v in rule.items() if k != "rule")
        lines.append(f"- `{rule['rule']}`" + (f" ({settings})" if settings else "") + "\n")
    bound = contract.custom.get("volume", {}).get("max_row_loss_share")
    if bound is not None:
        lines.append(
            f"- a redelivery losing more than {bound:.0%} of the rows it replaces is held "
            "until approved (`approvals/delivery_approvals.csv`)\n"
        )
    if not lines:
        return []
    return ["\nRules beyond one file (see `assets/common/dataset_rules.py`):\n\n", *lines]
