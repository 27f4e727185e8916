"""Every SQL example in the README runs against the demo warehouse; the tour shows real outputs."""

import re

import duckdb
import pytest
from conftest import REPO_ROOT

from assets.marts.catalog import MARTS
from orchestration import tour

_README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
_BLOCKS = re.findall(r"```sql\n(.*?)```", _README, re.DOTALL)
_STATEMENTS = [
    statement.strip()
    for block in _BLOCKS
    for statement in block.split(";")
    if statement.strip() and not statement.strip().startswith("--")
]
_TOUR = tour.examples(_README)


def test_the_readme_has_examples() -> None:
    assert len(_STATEMENTS) >= 8


@pytest.mark.parametrize("statement", _STATEMENTS, ids=lambda s: " ".join(s.split())[:60])
def test_readme_query_runs(warehouse: duckdb.DuckDBPyConnection, statement: str) -> None:
    rows = warehouse.execute(statement).fetchall()
    if "audit.sanctions_rejections" not in statement:  # empty in the demo, by design
        assert rows, statement


def test_every_tour_query_shows_its_output() -> None:
    assert len(_TOUR) >= 12
    missing = [example.statement.splitlines()[0] for example in _TOUR if example.shown is None]
    assert missing == []


@pytest.mark.parametrize("example", _TOUR, ids=lambda e: " ".join(e.statement.split())[:60])
def test_tour_output_is_what_the_warehouse_returns(
    warehouse: duckdb.DuckDBPyConnection, example: tour.Example
) -> None:
    assert tour.render(warehouse, example.statement) == example.shown, (
        "README output is stale: run `python -m orchestration.tour --write` on a fresh demo build"
    )


def test_the_tour_table_lists_every_mart() -> None:
    section = _README[_README.index(tour.SECTION) :]
    listed = set(re.findall(r"^\| `marts\.([a-z_]+)` \|", section, re.MULTILINE))
    assert listed == set(MARTS)


def test_render_is_exact() -> None:
    con = duckdb.connect()
    shown = tour.render(
        con,
        "select 1 as n, 2.5::double as x, null as missing, true as flag, "
        "['a', 'b'] as tags, date '2024-03-08' as day, 10154929.01 + 0.000000002 as drift",
    )
    assert shown == (
        "n  x    missing  flag  tags    day         drift\n"
        "1  2.5  NULL     true  [a, b]  2024-03-08  10154929.010000002\n"
    )


def test_the_readme_picture_is_what_the_warehouse_draws(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    assert f"]({tour.FIGURE.relative_to(REPO_ROOT).as_posix()})" in _README
    assert tour.FIGURE.read_text(encoding="utf-8") == tour.figure(warehouse), (
        "the README picture is stale: run `make tour` on a fresh demo build"
    )
