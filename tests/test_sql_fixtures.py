"""The SQL files that make the findings, each run on a few rows written by hand.

Given rows in, expected rows out: the risk score and rank (`marts.importer_profile`), the flag
reasons and their evidence (`marts.flagged_shipments`) and the list deltas
(`core.sanctions_list_deltas`). Each input table is made empty with the columns the demo build
gave it, so a change of layout upstream shows here too; a column a case does not name is null.
The demo build's own rows are never read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from conftest import DemoBuild

from assets.common import sql


@pytest.fixture
def con(demo_build: DemoBuild) -> Iterator[duckdb.DuckDBPyConnection]:
    """An empty in-memory warehouse that can copy the demo build's table layouts."""
    assert demo_build.succeeded
    connection = duckdb.connect()
    connection.execute(
        "attach $path as demo (read_only)", {"path": str(demo_build.settings.warehouse_path)}
    )
    for layer in ("staging", "core", "marts"):
        connection.execute(f"create schema {layer}")
    yield connection
    connection.close()


def given(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """`table` with the demo build's columns, holding `rows` (columns not named are null)."""
    layer, name = table.split(".")
    ref = sql.table_ref(layer, name)
    con.execute(f"create table {ref} as select * from demo.{ref} limit 0")  # noqa: S608
    for row in rows:
        columns = ", ".join(sql.quote_ident(c) for c in row)
        values = ", ".join(f"${c}" for c in row)
        con.execute(f"insert into {ref} ({columns}) values ({values})", row)  # noqa: S608


def run(con: duckdb.DuckDBPyConnection, layer: str, table: str) -> list[dict[str, Any]]:
    """The rows the SQL file gives, as dicts."""
    cursor = con.execute(sql.load(layer, table))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_risk_score_and_rank(con: duckdb.DuckDBPyConnection) -> None:
    year = {"year": 2024, "importer_name": "X", "shipments": 10}
    given(
        con,
        "core.importer_years",
        [
            # 0.9 x 0.8 x log10(1 + 999) = 2.16
            {**year, "importer_inn": "A", "main_dual_use_share": 0.9, "defence_sales_share": 0.8,
             "dual_use_imports_usd": 999.0},
            # no sales on record count as no defence sales: 0, plus 1 for being listed now
            {**year, "importer_inn": "C", "main_dual_use_share": 0.5, "defence_sales_share": None,
             "dual_use_imports_usd": 10_000.0},
            # 1 x 1 x log10(1 + 9) = 1: a tie with C, broken by the INN
            {**year, "importer_inn": "B", "main_dual_use_share": 1.0, "defence_sales_share": 1.0,
             "dual_use_imports_usd": 9.0},
            # another year is ranked on its own: 0.1 x 0.1 x log10(1 + 99) = 0.02, plus 1
            {**year, "year": 2023, "importer_inn": "C", "main_dual_use_share": 0.1,
             "defence_sales_share": 0.1, "dual_use_imports_usd": 99.0},
            {**year, "year": 2023, "importer_inn": "A", "main_dual_use_share": 0.5,
             "defence_sales_share": 0.5, "dual_use_imports_usd": 999.0},
        ],
    )  # fmt: skip
    listing = {"importer_inn": "C", "importer_listed_now": True, "importer_list_entries": "SDN 1"}
    given(
        con,
        "core.shipment_listings",
        [
            {**listing, "declaration_id": "d1", "declaration_date": "2024-03-01",
             "importer_listed_on_date": False},
            {**listing, "declaration_id": "d2", "declaration_date": "2024-09-01",
             "importer_listed_on_date": True},
            # every declaration of an importer ever listed is here, the years before too
            {**listing, "declaration_id": "d0", "declaration_date": "2023-06-01",
             "importer_listed_on_date": False},
        ],
    )  # fmt: skip
    got = {
        (r["importer_inn"], r["year"]): (
            r["risk_score"], r["risk_rank"], r["listed_now"], r["shipments_while_listed"]
        )
        for r in run(con, "marts", "importer_profile")
    }  # fmt: skip
    assert got == {
        ("A", 2024): (2.16, 1, False, 0),
        ("B", 2024): (1.0, 2, False, 0),
        ("C", 2024): (1.0, 3, True, 1),
        # listed now counts in every year: 1.02 ranks above 0.5 x 0.5 x log10(1 + 999) = 0.75
        ("C", 2023): (round(0.01 * math.log10(100) + 1, 4), 1, True, 0),
        ("A", 2023): (round(0.25 * math.log10(1000), 4), 2, False, 0),
    }


def test_each_flag_reason_with_its_evidence(con: duckdb.DuckDBPyConnection) -> None:
    shipment = {
        "declaration_date": "2024-05-10",
        "importer_name": "IMPORTER",
        "origin_country": "TW",
        "dispatch_country": "TW",
        "exporter_country": "TW",
        "routed_via_third_country": False,
        "hs6": "845811",
    }
    given(
        con,
        "core.shipments",
        [
            {**shipment, "declaration_id": "listed-then", "importer_inn": "L"},
            {**shipment, "declaration_id": "listed-later", "importer_inn": "M"},
            {**shipment, "declaration_id": "controlled", "importer_inn": "D"},
            {**shipment, "declaration_id": "rerouted", "importer_inn": "E",
             "dispatch_country": "TR", "exporter_country": "TR", "routed_via_third_country": True},
            # rerouted, but its goods concern no control: no flag
            {**shipment, "declaration_id": "rerouted-uncontrolled", "importer_inn": "E",
             "dispatch_country": "TR", "routed_via_third_country": True},
            {**shipment, "declaration_id": "plain", "importer_inn": "P"},
        ],
    )  # fmt: skip
    on_date = {"declaration_date": "2024-05-10", "importer_list_entries": "SDN 7"}
    given(
        con,
        "core.shipment_listings",
        [
            {**on_date, "declaration_id": "listed-then", "importer_inn": "L",
             "importer_listed_on_date": True, "importer_listed_now": True},
            {**on_date, "declaration_id": "listed-later", "importer_inn": "M",
             "importer_listed_on_date": False, "importer_listed_now": True},
        ],
    )  # fmt: skip
    given(
        con,
        "core.controlled_shipments",
        [
            {"declaration_id": "controlled", "declaration_date": "2024-05-10",
             "control_tags": ["cnc"], "measures_in_force": ["TW SHTC"],
             "measures_in_force_text": "TW SHTC from 2023-12-15"},
            # concerned by a control that governs another country's exports only
            {"declaration_id": "rerouted", "declaration_date": "2024-05-10",
             "control_tags": ["cnc"], "reexported_after": "TW SHTC"},
        ],
    )  # fmt: skip
    given(
        con,
        "core.company_sales",
        [
            {"seller_inn": "D", "year": 2024, "defence_sales_share": 0.625},
            {"seller_inn": "E", "year": 2024, "defence_sales_share": 0.4},  # under half: no flag
            {"seller_inn": "L", "year": 2024, "defence_sales_share": 0.9},  # nothing controlled
        ],
    )
    got = {
        (r["declaration_id"], r["reason"]): r["evidence"]
        for r in run(con, "marts", "flagged_shipments")
    }
    assert got == {
        ("listed-then", "listed_at_shipment"): "importer INN on SDN 7 on 2024-05-10",
        ("listed-later", "listed_later"): "importer INN on SDN 7 now, not on 2024-05-10",
        (
            "controlled",
            "controlled_after_effective",
        ): "HS 845811 from TW under TW SHTC from 2023-12-15",
        ("controlled", "defence_end_user"): (
            "importer sold 62.5% of its 2024 sales to defence-register buyers"
        ),
        ("rerouted", "routed_via_third_country"): (
            "made in TW, dispatched from TR by an exporter in TR; re-exported after TW SHTC took "
            "effect where the goods were made (it governs exports from there only)"
        ),
    }


def test_list_deltas_between_consecutive_snapshots(con: duckdb.DuckDBPyConnection) -> None:
    snapshot = {"list_id": "ofac_sdn"}
    given(
        con,
        "core.sanctions_snapshots",
        [
            {**snapshot, "snapshot_date": "2024-01-01", "seq": 1, "parser_version": "1"},
            {**snapshot, "snapshot_date": "2024-02-01", "seq": 2, "parser_version": "1"},
            {**snapshot, "snapshot_date": "2024-03-01", "seq": 3, "parser_version": "1"},
            # another list is compared only with itself
            {"list_id": "un", "snapshot_date": "2024-02-01", "seq": 1, "parser_version": "1"},
        ],
    )

    def entry(day: str, entry_id: str, name: str, **more: Any) -> dict[str, Any]:
        return {"list_id": "ofac_sdn", "snapshot_date": day, "entry_id": entry_id, "name": name,
                "programs": ["RUSSIA-EO14024"], "remarks": None, **more}  # fmt: skip

    jan, feb, mar = "2024-01-01", "2024-02-01", "2024-03-01"
    given(
        con,
        "staging.sanctions_entries",
        [
            entry(jan, "1", "SAME CO"), entry(feb, "1", "SAME CO"),
            entry(jan, "2", "GONE CO"),
            entry(feb, "3", "NEW CO"),
            entry(jan, "4", "OLD NAME"), entry(feb, "4", "NEW NAME"),
            entry(jan, "5", "ALIASED CO"), entry(feb, "5", "ALIASED CO"),
            # March: the publisher adds remarks to entry 1; the rest unchanged
            entry(mar, "1", "SAME CO", remarks="see also"), entry(mar, "3", "NEW CO"),
            entry(mar, "4", "NEW NAME"), entry(mar, "5", "ALIASED CO"),
            {"list_id": "un", "snapshot_date": feb, "entry_id": "9", "name": "UN ONLY"},
        ],
    )  # fmt: skip
    given(
        con,
        "staging.sanctions_aliases",
        [
            {"list_id": "ofac_sdn", "snapshot_date": day, "entry_id": "5", "alias": "ALIAS A",
             "alias_type": "aka", "quality": "strong"}
            for day in (jan, feb, mar)
        ]
        + [
            {"list_id": "ofac_sdn", "snapshot_date": day, "entry_id": "5", "alias": "ALIAS B",
             "alias_type": "aka", "quality": "weak"}
            for day in (feb, mar)
        ],
    )  # fmt: skip
    given(con, "staging.sanctions_identifiers", [])
    given(con, "staging.sanctions_addresses", [])
    got = {
        (r["to_snapshot"].isoformat(), r["entry_id"]): (
            r["change"], r["change_source"], r["changed_fields"], r["old_name"], r["new_name"]
        )
        for r in run(con, "core", "sanctions_list_deltas")
    }  # fmt: skip
    every_field = ["addresses", "aliases", "identifiers", "name", "programs"]
    assert got == {
        # an entry added or removed names every field it has (here no countries, remarks,
        # type or listing date)
        (feb, "2"): ("REMOVED", "publisher", every_field, "GONE CO", None),
        (feb, "3"): ("ADDED", "publisher", every_field, None, "NEW CO"),
        (feb, "4"): ("CHANGED", "publisher", ["name"], "OLD NAME", "NEW NAME"),
        (feb, "5"): ("CHANGED", "publisher", ["aliases"], "ALIASED CO", "ALIASED CO"),
        (mar, "1"): ("CHANGED", "publisher", ["remarks"], "SAME CO", "SAME CO"),
    }
