"""Every SQL example in the README runs against the demo warehouse and returns rows."""

import re

import duckdb
import pytest
from conftest import REPO_ROOT

_BLOCKS = re.findall(r"```sql\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.DOTALL)
_STATEMENTS = [
    statement.strip()
    for block in _BLOCKS
    for statement in block.split(";")
    if statement.strip() and not statement.strip().startswith("--")
]


def test_the_readme_has_examples() -> None:
    assert len(_STATEMENTS) >= 8


@pytest.mark.parametrize("statement", _STATEMENTS, ids=lambda s: " ".join(s.split())[:60])
def test_readme_query_runs(warehouse: duckdb.DuckDBPyConnection, statement: str) -> None:
    rows = warehouse.execute(statement).fetchall()
    if "audit.sanctions_rejections" not in statement:  # empty in the demo, by design
        assert rows, statement
