"""Rules beyond one file: other months, the nomenclature, the list entries, the load date."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest

from assets.common.contracts import load_contract
from assets.common.dataset_rules import materialise_reasons, rules_of, tables_read

CUSTOMS = load_contract("customs_declarations")
DECISIONS = load_contract("match_decisions")
LOADED = datetime(2025, 1, 15, tzinfo=UTC)


def _declaration(month: str, row: int, **values: str) -> dict[str, object]:
    base = {c: "" for c in CUSTOMS.column_names}
    base.update(
        declaration_id=f"10702030/150323/{row:07d}",
        declaration_date=f"{month}-15",
        commodity_code="8457100000",
    )
    base.update(values)
    return {
        **base,
        "source_file": f"customs/declarations_{month}.csv",
        "source_row_number": row,
        "partition_month": month,
        "loaded_at": LOADED,
    }


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for layer in ("raw", "staging"):
        con.execute(f"create schema {layer}")
    con.execute(
        "create table staging.hs_nomenclature as select * from (values "
        "('845710', 'XVI'), ('847130', 'XVI'), ('999999', 'TOTAL')) as t(hscode, section)"
    )
    return con


def _reasons(
    con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]], months: list[str]
) -> dict:
    con.register("_rows", pl.DataFrame(rows).to_arrow())
    con.execute("create or replace table raw.customs_declarations as select * from _rows")
    run = (
        "(select * from raw.customs_declarations where partition_month in (select unnest($months)))"
    )
    table = materialise_reasons(con, CUSTOMS, run, {"months": months}, months)
    assert table is not None
    found: dict[tuple[str, int], list[str]] = {}
    for file, row, reason in con.execute(f"select * from {table} order by all").fetchall():  # noqa: S608
        found.setdefault((file.rsplit("_", 1)[1][:7], row), []).append(reason)
    return found


def test_a_declaration_id_in_two_months_is_quarantined_in_the_later_naming_both_files(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = [
        _declaration("2024-10", 1, declaration_id="10702030/150323/0000042"),
        _declaration("2024-11", 7, declaration_id="10702030/150323/0000042"),
        _declaration("2024-11", 8),
    ]
    found = _reasons(con, rows, ["2024-10", "2024-11"])
    assert list(found) == [("2024-11", 7)]
    (reason,) = found[("2024-11", 7)]
    assert "customs/declarations_2024-10.csv row 1" in reason
    assert "customs/declarations_2024-11.csv row 7" in reason


def test_an_id_already_staged_from_a_month_outside_the_run_is_quarantined(
    con: duckdb.DuckDBPyConnection,
) -> None:
    staged = _declaration("2024-09", 3, declaration_id="10702030/150323/0000099")
    con.register("_staged", pl.DataFrame([staged]).to_arrow())
    con.execute("create table staging.customs_declarations as select * from _staged")
    rows = [staged, _declaration("2024-12", 2, declaration_id="10702030/150323/0000099")]
    found = _reasons(con, rows, ["2024-12"])
    assert list(found) == [("2024-12", 2)]
    assert "declarations_2024-09.csv row 3" in found[("2024-12", 2)][0]


def test_a_rerun_of_the_staged_months_still_finds_an_id_in_two_of_them(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Staging holds only the run's months: the rule leaves staging out, and still compares the
    run's months with each other."""
    first = _declaration("2024-10", 1, declaration_id="10702030/150323/0000042")
    con.register("_staged", pl.DataFrame([first]).to_arrow())
    con.execute("create table staging.customs_declarations as select * from _staged")
    rows = [first, _declaration("2024-11", 7, declaration_id="10702030/150323/0000042")]
    found = _reasons(con, rows, ["2024-10", "2024-11"])
    assert list(found) == [("2024-11", 7)]
    assert "declarations_2024-10.csv row 1" in found[("2024-11", 7)][0]


_OUTSIDE = "declaration_date: outside the file's month by more than 3 days"


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        ("2024-11-15", None),
        ("2024-12-02", None),  # within the 3 days' tolerance
        ("2024-10-29", None),
        ("2024-12-05", f"{_OUTSIDE} (got 2024-12-05 in the file of 2024-11)"),
        ("2024-10-20", f"{_OUTSIDE} (got 2024-10-20 in the file of 2024-11)"),
        ("2099-11-15", "later than the day the file was loaded"),
        ("1900-11-15", "earlier than 2000-01-01"),
    ],
)
def test_dates_fall_in_the_files_month_and_a_plausible_range(
    con: duckdb.DuckDBPyConnection, day: str, problem: str | None
) -> None:
    found = _reasons(con, [_declaration("2024-11", 1, declaration_date=day)], ["2024-11"])
    if problem is None:
        assert found == {}
    else:
        assert any(problem in reason for reason in found[("2024-11", 1)])


@pytest.mark.parametrize(
    ("code", "day", "problem"),
    [
        ("8457100000", "2024-11-15", None),
        ("9999999999", "2024-11-15", "does not exist in HS 2022 (got 9999999999)"),
        ("8457", "2024-11-15", None),  # malformed: the contract's pattern says so, not this rule
    ],
)
def test_hs_codes_exist_in_the_nomenclature_in_force(
    con: duckdb.DuckDBPyConnection, code: str, day: str, problem: str | None
) -> None:
    found = _reasons(
        con, [_declaration("2024-11", 1, commodity_code=code, declaration_date=day)], ["2024-11"]
    )
    assert found == (
        {} if problem is None else {("2024-11", 1): [f"commodity_code: HS code {problem}"]}
    )


def test_a_date_before_any_loaded_nomenclature_says_so(con: duckdb.DuckDBPyConnection) -> None:
    found = _reasons(con, [_declaration("2021-06", 1, declaration_date="2021-06-10")], ["2021-06"])
    assert any("no HS nomenclature in force" in r for r in found[("2021-06", 1)])


def _decision(row: int, **values: str) -> dict[str, object]:
    base = {
        "party_key": "7707083893",
        "list_id": "ofac_sdn",
        "entry_id": "47497",
        "decision": "confirmed",
        "reviewer": "a",
        "reviewed_at": "2024-03-04",
        "note": "",
    }
    base.update(values)
    return {**base, "source_file": "decisions/match_decisions.csv", "source_row_number": row,
            "loaded_at": LOADED}  # fmt: skip


def _decision_reasons(con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]]) -> dict:
    con.execute(
        "create or replace table staging.sanctions_entries as "
        "select 'ofac_sdn' as list_id, unnest(['47497', '25388']) as entry_id"
    )
    con.register("_rows", pl.DataFrame(rows).to_arrow())
    con.execute("create or replace table raw.match_decisions as select * from _rows")
    table = materialise_reasons(con, DECISIONS, "raw.match_decisions", {}, None)
    assert table is not None
    found: dict[int, list[str]] = {}
    for _, row, reason in con.execute(f"select * from {table} order by all").fetchall():  # noqa: S608
        found.setdefault(row, []).append(reason)
    return found


def test_decisions_name_existing_entries_and_valid_parties(con: duckdb.DuckDBPyConnection) -> None:
    found = _decision_reasons(
        con,
        [
            _decision(1),
            _decision(2, entry_id="99999999"),
            _decision(3, party_key="7707083894", entry_id="25388"),  # check digit off by one
            _decision(4, party_key='OOO "KARALAIN"|BY', entry_id="25388"),
            _decision(5, party_key="SOMEONE|XX", entry_id="25388"),
            _decision(6, reviewed_at="2099-01-01", party_key="7736050003"),
        ],
    )
    assert set(found) == {2, 3, 5, 6}
    assert "not found in staging.sanctions_entries (got ofac_sdn / 99999999)" in found[2][0]
    assert "INN check digits fail" in found[3][0]
    assert "known country" in found[5][0]
    assert "later than the day the file was loaded" in found[6][0]


def test_conflicting_decisions_are_all_quarantined_a_plain_repeat_is_not(
    con: duckdb.DuckDBPyConnection,
) -> None:
    found = _decision_reasons(
        con,
        [
            _decision(1),
            _decision(2, decision="false_positive"),  # same pair, other verdict
            _decision(3, entry_id="25388"),
            _decision(4, entry_id="25388"),  # the same decision twice: the key rule's business
        ],
    )
    assert set(found) == {1, 2}
    conflict = "conflicting rows for one key, none is used (rows 1, 2)"
    assert all(conflict in r[0] for r in found.values())


def test_the_rules_name_the_tables_they_read() -> None:
    assert ("staging", "hs_nomenclature") in tables_read(CUSTOMS)
    assert ("staging", "sanctions_entries") in tables_read(DECISIONS)
    assert {r["rule"] for r in rules_of(CUSTOMS)} >= {"unique_across_files", "date_in_file_month"}
