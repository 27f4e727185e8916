"""The one list of marts: every `sql/marts/<table>.sql`, each described by its data contract."""

from assets.common.contracts import Contract, contract_for_table
from assets.common.paths import SQL_DIR


def _marts() -> dict[str, Contract]:
    found: dict[str, Contract] = {}
    for path in sorted((SQL_DIR / "marts").glob("*.sql")):
        contract = contract_for_table("marts", path.stem)
        if contract is None:
            raise ValueError(
                f"sql/marts/{path.name} has no data contract (physicalName marts.{path.stem})"
            )
        found[path.stem] = contract
    return found


MART_CONTRACTS: dict[str, Contract] = _marts()
MARTS: tuple[str, ...] = tuple(MART_CONTRACTS)
