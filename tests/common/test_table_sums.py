"""Checksums kept per month add up to what a pass over every row gives, and are hashed again
whenever their month may have changed."""

import duckdb
import pytest

from assets.common import table_sums

# A table whose SQL file's header partitions it by month on a date column, and an ingested one
# partitioned on its `partition_month` text column.
DATED = "marts.flagged_shipments"
INGESTED = "staging.customs_declarations"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for schema in ("marts", "staging", "core", "audit"):
        con.execute(f"create schema {schema}")
    con.execute(
        "create table marts.flagged_shipments as select range as id, "
        "date '2024-01-01' + (range % 90)::integer as declaration_date, range * 2 as value "
        "from range(3000)"
    )
    con.execute(
        "create table staging.customs_declarations as select range as id, "
        "['2024-01', '2024-02', '2024-03'][range % 3 + 1] as partition_month, "
        "now() as loaded_at from range(900)"
    )
    con.execute("create table core.companies as select range as id from range(10)")
    con.execute("create table audit.publications (run_id varchar, published_at timestamptz)")
    return con


def _publish(con: duckdb.DuckDBPyConnection, parts: list[table_sums.Part], run: str) -> None:
    """What publication does: keep the month sums, then record itself as the latest."""
    table_sums.keep(con, parts, run)
    con.execute("insert into audit.publications values ($run, now())", {"run": run})


def _kept(con: duckdb.DuckDBPyConnection, run: str = "run-1") -> dict[str, str]:
    sums = table_sums.checksums(con)
    _publish(con, sums.parts, run)
    return {table: value["checksum"] for table, value in sums.tables.items()}


def _agrees(con: duckdb.DuckDBPyConnection) -> bool:
    return table_sums.checksums(con).tables == table_sums.full_checksums(con)


def test_month_sums_add_up_to_a_pass_over_every_row(con: duckdb.DuckDBPyConnection) -> None:
    sums, parts = table_sums.checksums(con).tables, table_sums.checksums(con).parts
    assert sums == table_sums.full_checksums(con)
    assert sums[DATED]["rows"] == 3000 and sums["core.companies"]["rows"] == 10
    by_table = {(p.table, p.part) for p in parts}
    assert {part for table, part in by_table if table == DATED} == {"2024-01", "2024-02", "2024-03"}
    assert {part for table, part in by_table if table == INGESTED} == {
        "2024-01",
        "2024-02",
        "2024-03",
    }
    assert not any(p.table == "core.companies" for p in parts)  # not partitioned: whole
    _publish(con, parts, "run-1")
    assert table_sums.checksums(con) == table_sums.Checksums(sums, parts, [])  # read back


def test_a_month_forgotten_before_it_is_rewritten_is_hashed_again(
    con: duckdb.DuckDBPyConnection,
) -> None:
    before = _kept(con)
    for table, month in ((DATED, "2024-02"), (INGESTED, "2024-03")):
        schema, name = table.split(".")
        table_sums.forget(con, schema, name, [month])
    # the same row counts, other values: only what was forgotten can tell
    con.execute(
        "update marts.flagged_shipments set value = value + 1 where declaration_date = '2024-02-10'"
    )
    con.execute(
        "update staging.customs_declarations set id = id + 1000 where partition_month = '2024-03'"
    )
    after = table_sums.checksums(con).tables
    assert after == table_sums.full_checksums(con)
    assert after[DATED]["checksum"] != before[DATED]
    assert after[INGESTED]["checksum"] != before[INGESTED]


def test_a_kept_sum_is_used_without_reading_its_month_again(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """What the kept sums save, and why every writer must forget the months it writes: a
    month rewritten in place with as many rows, and not forgotten, keeps its old sum."""
    before = _kept(con)
    con.execute(
        "update marts.flagged_shipments set value = value + 1 where declaration_date = '2024-02-10'"
    )
    assert table_sums.checksums(con).tables[DATED] == {
        "rows": 3000,
        "checksum": before[DATED],
    }
    assert not _agrees(con)
    table_sums.forget(con, "marts", "flagged_shipments", None)  # the whole table
    assert _agrees(con)


def test_rows_added_or_removed_without_forgetting_are_hashed_again(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _kept(con)
    con.execute("delete from marts.flagged_shipments where id = 7")
    con.execute(
        "insert into staging.customs_declarations values (5000, '2024-04', now())"
    )  # a new month
    assert _agrees(con)
    _kept(con)
    con.execute(
        "delete from staging.customs_declarations where partition_month = '2024-04'"
    )  # a month gone
    sums, parts = table_sums.checksums(con).tables, table_sums.checksums(con).parts
    assert sums == table_sums.full_checksums(con)
    assert "2024-04" not in {p.part for p in parts if p.table == INGESTED}


def test_changed_columns_and_null_months_are_hashed_again(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _kept(con)
    con.execute("alter table marts.flagged_shipments add column note varchar default 'x'")
    assert _agrees(con)
    con.execute("insert into marts.flagged_shipments values (9999, null, 1, 'no date')")
    sums, parts = table_sums.checksums(con).tables, table_sums.checksums(con).parts
    assert sums == table_sums.full_checksums(con)
    assert "" in {p.part for p in parts if p.table == DATED}  # rows without a month
    _publish(con, parts, "run-2")
    con.execute("update marts.flagged_shipments set value = 2 where declaration_date is null")
    table_sums.forget(con, "marts", "flagged_shipments", ["2024-01"])  # not the null part
    assert table_sums.checksums(con).tables[DATED] == sums[DATED]  # kept: nobody forgot it


def test_volatile_columns_do_not_count(con: duckdb.DuckDBPyConnection) -> None:
    before = _kept(con)
    table_sums.forget(con, "staging", "customs_declarations", None)
    con.execute("update staging.customs_declarations set loaded_at = now() + interval 1 day")
    assert table_sums.checksums(con).tables[INGESTED]["checksum"] == before[INGESTED]


def test_sums_kept_by_an_earlier_publication_are_not_used(con: duckdb.DuckDBPyConnection) -> None:
    """After a publication by code that keeps no sums (a rollback), months may have been
    rewritten without their sums taken out: none is trusted then."""
    before = _kept(con)
    con.execute(
        "update marts.flagged_shipments set value = value + 1 where declaration_date = '2024-02-10'"
    )
    con.execute("insert into audit.publications values ('older-code', now() + interval 1 hour)")
    after = table_sums.checksums(con).tables
    assert after == table_sums.full_checksums(con)
    assert after[DATED]["checksum"] != before[DATED]


def test_a_spot_check_finds_a_sum_kept_for_rows_rewritten_unannounced(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """The safety net under the writers' rule: one kept month per table, chosen by the run,
    is hashed again; a sum that does not match makes the whole table hashed again."""
    _kept(con)
    con.execute("update marts.flagged_shipments set value = value + 1")  # every month, unforgotten
    assert not _agrees(con)
    checked = table_sums.checksums(con, spot="run-2")
    assert checked.mismatched == [DATED]
    assert checked.tables == table_sums.full_checksums(con)
    assert table_sums.checksums(con, spot="run-3").mismatched == [DATED]  # not kept yet
    _publish(con, checked.parts, "run-2")
    assert table_sums.checksums(con, spot="run-3").mismatched == []


def test_the_month_column_is_the_headers_date_or_an_ingested_text_month() -> None:
    dated = [("declaration_date", "DATE"), ("partition_month", "VARCHAR")]
    assert table_sums.month_column("marts", "flagged_shipments", dated) == "declaration_date"
    # a header column of another type: the table is hashed whole
    assert (
        table_sums.month_column("marts", "flagged_shipments", [("declaration_date", "TIMESTAMP")])
        is None
    )
    assert (
        table_sums.month_column("staging", "x", [("partition_month", "VARCHAR")])
        == "partition_month"
    )
    assert table_sums.month_column("staging", "x", [("partition_month", "DATE")]) is None
    assert table_sums.month_column("core", "companies", [("id", "BIGINT")]) is None


def test_sums_kept_in_an_older_layout_are_not_used(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table audit.checksum_parts (table_name varchar, part varchar, "
        "row_count bigint, checksum hugeint, signature varchar)"
    )
    con.execute("insert into audit.checksum_parts values ($t, '2024-01', 1, 1, 'x')", {"t": DATED})
    checked = table_sums.checksums(con, spot="run-1")
    assert checked.tables == table_sums.full_checksums(con) and checked.mismatched == []
