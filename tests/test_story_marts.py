"""The story's questions answered from marts alone; every expected figure comes from `demo/spec.py`.

How much the CNC importer bought, when, via where, after which control step, and whom it sold
to: `marts.importer_dual_use_monthly`, `marts.transshipment_routes` (with the importer) and
`marts.counterparty_sales`. Plus the invariants that keep such answers right for any data: each
measure counts a shipment once, and a national measure concerns only goods made in or shipped
from its country.
"""

from collections import defaultdict
from decimal import Decimal

import duckdb
import pytest

from assets.common.paths import SQL_DIR
from assets.marts.catalog import MART_CONTRACTS, MARTS
from demo import spec

CENT = Decimal("0.01")
TAIWAN_STEP = "TW-2024-03-08"


def _usd(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _cnc_importer_shipments() -> list[spec.PlantedShipment]:
    return [s for s in spec.planted_cnc_shipments() if s.importer_inn == spec.CNC_IMPORTER.inn]


def test_how_much_and_when(warehouse: duckdb.DuckDBPyConnection) -> None:
    expected: dict[int, tuple[int, Decimal]] = {}
    for year in (2023, 2024):
        shipments = [s for s in _cnc_importer_shipments() if s.date.year == year]
        expected[year] = (
            len(shipments),
            sum((s.statistical_value_usd for s in shipments), Decimal()),
        )
    rows = warehouse.execute(
        "select year(month), sum(shipments), sum(value_usd) from marts.importer_dual_use_monthly "
        "where importer_inn = $inn and control_tag = 'CHPL-4B' group by all order by all",
        {"inn": spec.CNC_IMPORTER.inn},
    ).fetchall()
    assert {year: (count, _usd(value)) for year, count, value in rows} == expected
    assert sum(value for _, value in expected.values()) == spec.CNC_IMPORTER_TARGET_USD


def test_via_where(warehouse: duckdb.DuckDBPyConnection) -> None:
    routes: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for s in _cnc_importer_shipments():
        routes[(s.origin_country, s.dispatch_country)].append(s.statistical_value_usd)
    rows = warehouse.execute(
        "select origin_country, dispatch_country, sum(shipments), sum(value_usd) "
        "from marts.importer_dual_use_monthly "
        "where importer_inn = $inn and control_tag = 'CHPL-4B' group by all",
        {"inn": spec.CNC_IMPORTER.inn},
    ).fetchall()
    assert {(o, d): (n, _usd(v)) for o, d, n, v in rows} == {
        key: (len(values), sum(values, Decimal())) for key, values in routes.items()
    }
    # the same rerouted goods, with their exporters, from the routes mart
    rerouted: dict[str, set[str]] = defaultdict(set)
    for s in _cnc_importer_shipments():
        if s.via_third_country:
            rerouted[s.dispatch_country].add(s.exporter_name.upper())
    rows = warehouse.execute(
        "select dispatch_country, list_sort(list(distinct exporter)) "
        "from marts.transshipment_routes, unnest(exporter_names) as named(exporter) "
        "where importer_inn = $inn group by all",
        {"inn": spec.CNC_IMPORTER.inn},
    ).fetchall()
    assert {dispatch: set(exporters) for dispatch, exporters in rows} == dict(rerouted)


@pytest.mark.parametrize("step", [0, 1])
def test_after_which_control_step(warehouse: duckdb.DuckDBPyConnection, step: int) -> None:
    """Before and after each of Taiwan's steps, governed (from Taiwan) or re-exported."""
    effective = spec.CONTROL_DATES[step]
    measure = f"TW-{effective}"
    rows = warehouse.execute(
        "select relation, after_effective, sum(shipments), sum(value_usd) "
        "from marts.importer_dual_use_monthly "
        "where importer_inn = $inn and measure_id = $measure group by all",
        {"inn": spec.CNC_IMPORTER.inn, "measure": measure},
    ).fetchall()
    actual = {(relation, after): (n, _usd(v)) for relation, after, n, v in rows}
    covered = warehouse.execute(
        "select list(distinct hs6) from core.control_list_items where measure_id = $measure",
        {"measure": measure},
    ).fetchall()[0][0]
    expected: dict[tuple[str, bool], list[Decimal]] = defaultdict(list)
    for s in _cnc_importer_shipments():
        if s.hs6 in (covered or []):
            relation = (
                "exported_from_jurisdiction"
                if s.dispatch_country == "TW"
                else "reexported_via_third_country"
            )
            expected[(relation, s.declaration_date >= effective)].append(s.statistical_value_usd)
    assert actual == {key: (len(v), sum(v, Decimal())) for key, v in expected.items()}
    if step == 1:
        # the 8 March 2024 step covers every tier-4B code the importer bought
        after = [s for s in _cnc_importer_shipments() if s.declaration_date >= effective]
        total_after = sum(
            (value for (_, is_after), (_, value) in actual.items() if is_after), Decimal()
        )
        assert total_after == sum((s.statistical_value_usd for s in after), Decimal())
    else:
        # the 25 January 2024 step (the CHPL's codes before tier 4.B) did not cover CNC tools
        assert actual == {}


def test_each_measure_counts_a_shipment_once(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = warehouse.execute(
        "select measure_id, mart_shipments, core_shipments from ("
        " select measure_id, sum(shipments) as mart_shipments"
        " from marts.importer_dual_use_monthly group by measure_id"
        ") full join ("
        " select measure_id, count(distinct declaration_id) as core_shipments"
        " from core.shipment_controls group by measure_id"
        ") using (measure_id)"
    ).fetchall()
    assert rows
    assert all(mart == core for _, mart, core in rows), rows


def test_a_national_measure_concerns_goods_made_in_or_shipped_from_its_country(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    wrong = warehouse.execute(
        "select controls.measure_id, shipments.origin_country, shipments.dispatch_country, "
        "controls.relation from core.shipment_controls as controls "
        "join core.shipments as shipments using (declaration_id) "
        "where controls.jurisdiction <> 'MULTI' and not ("
        " (controls.relation = 'exported_from_jurisdiction'"
        "  and shipments.dispatch_country = controls.jurisdiction)"
        " or (controls.relation = 'reexported_via_third_country'"
        "  and shipments.origin_country = controls.jurisdiction"
        "  and shipments.dispatch_country <> controls.jurisdiction)) limit 5"
    ).fetchall()
    assert wrong == []
    # a Taiwan-made tool shipped from Türkiye is never governed by Taiwan's step
    governed_reexports = warehouse.execute(
        "select count(*) from core.shipment_controls join core.shipments using (declaration_id) "
        "where measure_id = $measure and governs and dispatch_country <> 'TW'",
        {"measure": TAIWAN_STEP},
    ).fetchall()
    assert governed_reexports == [(0,)]


def test_sold_to_whom(warehouse: duckdb.DuckDBPyConnection) -> None:
    invoices = spec.planted_sales_invoices()
    by_kind: dict[str, list[Decimal]] = defaultdict(list)
    for invoice in invoices:
        by_kind[invoice.buyer_kind].append(invoice.amount_rub)
    rows = warehouse.execute(
        "select case when buyer_in_defence_register then 'defence' "
        "when buyer_listed_now then 'sanctioned' else 'civilian' end, "
        "sum(invoices), sum(amount_rub), sum(amount_rub_buyer_listed_on_date) "
        "from marts.counterparty_sales where seller_inn = $inn group by all",
        {"inn": spec.CNC_IMPORTER.inn},
    ).fetchall()
    actual = {kind: (n, _usd(amount)) for kind, n, amount, _ in rows}
    assert actual == {kind: (len(v), sum(v, Decimal())) for kind, v in by_kind.items()}
    listed_on_date = {kind: _usd(amount) for kind, _, _, amount in rows}
    after_listing = [
        i.amount_rub
        for i in invoices
        if i.buyer_kind == "sanctioned" and i.invoice_date >= spec.LISTING_DATE
    ]
    assert listed_on_date == {
        "defence": Decimal("0.00"),
        "civilian": Decimal("0.00"),
        "sanctioned": sum(after_listing, Decimal()),
    }
    assert 0 < len(after_listing) < len(by_kind["sanctioned"]), "listed on the date vs now differ"


def test_dual_use_trade_has_the_origin(warehouse: duckdb.DuckDBPyConnection) -> None:
    planted = spec.planted_cnc_shipments()
    rows = warehouse.execute(
        "select sum(shipments), sum(value_usd) from marts.dual_use_trade_monthly "
        "where origin_country = 'TW' and control_tag = 'CHPL-4B'"
    ).fetchall()
    assert rows == [
        (len(planted), pytest.approx(float(sum(s.statistical_value_usd for s in planted))))
    ]


def test_one_list_of_marts() -> None:
    """Every SQL file in sql/marts/ is a mart with a contract; nothing else is."""
    assert set(MARTS) == {path.stem for path in (SQL_DIR / "marts").glob("*.sql")}
    assert all(
        contract.physical_name == f"marts.{mart}" for mart, contract in MART_CONTRACTS.items()
    )
    from assets.marts.quality import mart_quality

    checked = {key.path[-1] for key in mart_quality.dependency_keys}
    assert checked == set(MARTS)
