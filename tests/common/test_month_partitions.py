"""Month-partitioned SQL tables: a run replaces its months' rows and leaves the others alone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import DemoBuild

from assets.common import ingest, sql
from assets.common.contracts import load_contract


@pytest.fixture
def warehouse_copy(demo_build: DemoBuild, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    assert demo_build.succeeded
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(demo_build.settings.warehouse_path, copy)
    con = duckdb.connect(str(copy))
    yield con
    con.close()


def _names(con: duckdb.DuckDBPyConnection, month_filter: str) -> set[str]:
    query = f"select distinct importer_name from core.shipments where {month_filter}"  # noqa: S608
    return {row[0] for row in con.execute(query).fetchall()}


def test_a_month_is_replaced_and_the_other_months_are_left_as_they_are(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    total = con.execute("select count(*) from core.shipments").fetchone()
    # mark every row: rows the function rewrites lose the mark, rows it leaves keep it
    con.execute("update core.shipments set importer_name = 'MARK'")
    rows = sql.replace_months_from_file(
        con, "core", "shipments", "declaration_month", ["2024-06", "2024-08"]
    )
    assert (rows,) == total
    rebuilt = "strftime(declaration_month, '%Y-%m') in ('2024-06', '2024-08')"
    assert "MARK" not in _names(con, rebuilt)
    assert _names(con, f"not ({rebuilt})") == {"MARK"}
    # what the two months hold now is exactly what the SQL gives for them
    statement = sql.load("core", "shipments")
    differ = con.execute(
        f"select count(*) from ((select * from ({statement}) where {rebuilt}) "  # noqa: S608
        f"except all (select * from core.shipments where {rebuilt}))"
    ).fetchone()
    assert differ == (0,)


def test_a_table_whose_columns_changed_is_rebuilt_over_every_month(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    total = con.execute("select count(*) from core.shipments").fetchone()
    con.execute("alter table core.shipments drop column quantity_unit")  # an older layout
    con.execute("update core.shipments set importer_name = 'MARK'")
    rows = sql.replace_months_from_file(con, "core", "shipments", "declaration_month", ["2024-06"])
    assert (rows,) == total
    assert "MARK" not in _names(con, "true")
    columns = [row[0] for row in con.execute("describe core.shipments").fetchall()]
    assert "quantity_unit" in columns


def test_a_month_run_finds_its_keys_repeated_in_any_month_and_not_elsewhere(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    from assets.common.contracts import contract_for_table
    from assets.common.sql_assets import contract_check

    con = warehouse_copy
    contract = contract_for_table("core", "shipments")
    assert contract is not None
    june = ("declaration_month", ["2024-06"])
    assert contract_check(con, "core", "shipments", contract, june).passed
    # a June declaration repeated in August: found by a run over June, as by the whole table
    con.execute(
        "insert into core.shipments select * replace (date '2024-08-01' as declaration_month) "
        "from core.shipments where declaration_month = date '2024-06-01' limit 2"
    )
    for scope in (june, None):
        found = contract_check(con, "core", "shipments", contract, scope)
        assert not found.passed
        assert found.metadata["duplicated_keys"].value == 2
    # a repeat within March only: not the June run's to find (March's own run checked March)
    con.execute(
        "insert into core.shipments select * from core.shipments "
        "where declaration_month = date '2024-03-01' limit 1"
    )
    scoped = contract_check(con, "core", "shipments", contract, june)
    assert scoped.metadata["duplicated_keys"].value == 2
    assert contract_check(con, "core", "shipments", contract).metadata["duplicated_keys"].value == 3


def test_a_run_over_every_month_writes_the_table_anew_with_the_same_rows(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    """A list change runs over every month: the table is written anew, not deleted row by row."""
    con = warehouse_copy
    months = [
        row[0]
        for row in con.execute(
            "select distinct strftime(declaration_month, '%Y-%m') from core.shipments order by 1"
        ).fetchall()
    ]
    statement = sql.load("core", "shipments")
    expected = con.execute(f"select count(*) from ({statement})").fetchone()  # noqa: S608
    con.execute("update core.shipments set importer_name = 'MARK'")
    rows = sql.replace_months_from_file(con, "core", "shipments", "declaration_month", months)
    assert (rows,) == expected
    assert "MARK" not in _names(con, "true")
    # written anew: row ids from 0 (rows inserted after a delete would follow the deleted ones)
    span = con.execute("select min(rowid), max(rowid) from core.shipments").fetchone()
    assert span == (0, rows - 1)
    differ = con.execute(
        f"select count(*) from (({statement}) except all (select * from core.shipments))"  # noqa: S608
    ).fetchone()
    assert differ == (0,)
    # one month fewer than the table holds: that month's rows are left as they were
    con.execute("update core.shipments set importer_name = 'MARK'")
    sql.replace_months_from_file(con, "core", "shipments", "declaration_month", months[1:])
    first = f"strftime(declaration_month, '%Y-%m') = '{months[0]}'"
    assert _names(con, first) == {"MARK"}
    assert "MARK" not in _names(con, f"not ({first})")


def test_months_are_batched_in_order_within_the_row_budget() -> None:
    counts = [("2024-01", 4), ("2024-02", 3), ("2024-03", 9), ("2024-04", 1), ("2024-05", 2)]
    assert sql.month_batches(counts, 7) == [
        ["2024-01", "2024-02"],
        ["2024-03"],  # over the budget on its own: a batch of one
        ["2024-04", "2024-05"],
    ]
    assert sql.month_batches(counts, 100) == [[m for m, _ in counts]]
    assert sql.month_batches([], 7) == []


@pytest.mark.parametrize("budget", [1, 5_000, 10**9])  # a month, a few months, all at once
@pytest.mark.parametrize("run", ["every month", "the last seven"])
def test_rows_left_out_of_staging_are_found_the_same_in_batches_of_months(
    warehouse_copy: duckdb.DuckDBPyConnection,
    monkeypatch: pytest.MonkeyPatch,
    budget: int,
    run: str,
) -> None:
    con = warehouse_copy
    contract = load_contract("customs_declarations")
    months = [
        row[0]
        for row in con.execute(
            "select distinct partition_month from raw.customs_declarations order by 1"
        ).fetchall()
    ]
    if run == "the last seven":  # staging holds the other months too: they stay out
        months = months[-7:]
    monkeypatch.setattr(ingest, "_UNSTAGED_BATCH_ROWS", budget)
    ingest._find_unstaged(con, contract, months, ingest._received_by_month(con, contract, months))
    found = con.execute("select * from _unstaged order by all").fetchall()
    # every received row of the run's months that staging does not hold, in one query
    expected = con.execute(
        "select * from raw.customs_declarations anti join staging.customs_declarations "
        "using (source_file, source_row_number) where list_contains($months, partition_month) "
        "order by all",
        {"months": months},
    ).fetchall()
    assert found == expected
    quarantined = con.execute(
        "select count(*) from quarantine.customs_declarations "
        "where list_contains($months, partition_month)",
        {"months": months},
    ).fetchone()
    assert quarantined is not None and len(found) == quarantined[0] > 0
