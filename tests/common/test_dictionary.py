"""The data dictionary describes every table of the warehouse, and the DDL files their contracts."""

import re

import duckdb
import pytest

from assets.common import sql
from assets.common.contracts import contract_for_table
from assets.common.dictionary import grain_and_keys, macros, render, tables
from assets.common.paths import REPO_ROOT, SQL_DIR
from assets.common.sql_assets import _is_macro

DDL_FILES = sorted(
    (layer, path.stem) for layer in ("raw", "audit") for path in (SQL_DIR / layer).glob("*.sql")
)
CORE_FILES = sorted(path.stem for path in (SQL_DIR / "core").glob("*.sql"))
_COLUMNS = """
select schema_name, table_name, column_name, data_type from duckdb_columns()
where database_name = current_database() and list_contains($layers, schema_name)
order by schema_name, table_name, column_index
"""
_RELATIONS = """
select schema_name, table_name from duckdb_tables()
where database_name = current_database() and list_contains($layers, schema_name)
union all
select schema_name, view_name from duckdb_views()
where database_name = current_database() and list_contains($layers, schema_name)
"""


def test_the_committed_dictionary_is_the_generated_one() -> None:
    committed = (REPO_ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == render(), "run `make dictionary` and commit docs/data_dictionary.md"


@pytest.mark.parametrize(("layer", "table"), DDL_FILES, ids=[".".join(f) for f in DDL_FILES])
def test_each_ddl_file_creates_the_table_its_contract_describes(layer: str, table: str) -> None:
    contract = contract_for_table(layer, table)
    assert contract is not None, f"no contract has physicalName {layer}.{table}"
    con = duckdb.connect()
    con.execute(f"create schema {sql.quote_ident(layer)}")
    for _ in range(2):  # run at the start of every step that writes the table: idempotent
        con.execute(sql.load(layer, table))
    built = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = $layer and table_name = $table order by column_index",
        {"layer": layer, "table": table},
    ).fetchall()
    assert built == [(c.name, c.physical_type) for c in contract.columns]


def test_no_module_keeps_audit_or_raw_ddl_of_its_own() -> None:
    ddl = re.compile(r"create\s+table\s+if\s+not\s+exists\s+(audit|raw)\.", re.IGNORECASE)
    found = [
        str(path.relative_to(REPO_ROOT))
        for path in sorted((REPO_ROOT / "assets").rglob("*.py"))
        if ddl.search(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "put the statement in sql/<layer>/<table>.sql and sql.load() it"


@pytest.mark.parametrize("table", CORE_FILES)
def test_every_core_table_has_a_contract_and_every_macro_is_listed(table: str) -> None:
    if _is_macro(sql.load("core", table)):
        assert f"core.{table}" in {name.partition("(")[0] for name, _ in macros()}
    else:
        assert contract_for_table("core", table) is not None, f"write core_{table}.yaml"


def test_the_dictionary_covers_every_table_of_the_demo_warehouse(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    layers = {"layers": list(sql.LAYERS)}
    built: dict[str, list[tuple[str, str]]] = {
        f"{schema}.{table}": []
        for schema, table in warehouse.execute(_RELATIONS, layers).fetchall()
    }
    for schema, table, column, kind in warehouse.execute(_COLUMNS, layers).fetchall():
        built[f"{schema}.{table}"].append((column, kind))
    documented = {doc.qualified: [(c.name, c.type) for c in doc.columns] for doc in tables()}
    assert sorted(set(built) - set(documented)) == [], "tables the dictionary lacks"
    assert sorted(set(documented) - set(built)) == [], "tables the demo build did not make"
    for name, columns in built.items():
        assert documented[name] == columns, name
    in_warehouse = warehouse.execute(
        "select distinct schema_name || '.' || function_name from duckdb_functions() "
        "where database_name = current_database() and list_contains($layers, schema_name) "
        "and function_type in ('macro', 'table_macro') order by 1",
        layers,
    ).fetchall()
    assert [row[0] for row in in_warehouse] == sorted(n.partition("(")[0] for n, _ in macros())


@pytest.mark.parametrize(
    ("layer", "table"),
    [*DDL_FILES, *(("core", t) for t in CORE_FILES)],
    ids=[".".join(f) for f in [*DDL_FILES, *(("core", t) for t in CORE_FILES)]],
)
def test_the_keys_in_a_sql_header_are_its_contracts(layer: str, table: str) -> None:
    contract = contract_for_table(layer, table)
    if contract is None:  # a macro (checked above)
        return
    _, said = grain_and_keys(layer, table)
    names = [k.strip() for k in re.sub(r"\(.*?\)", "", said).split(",") if k.strip()]
    assert tuple(n for n in names if n != "none") == contract.primary_key, said
