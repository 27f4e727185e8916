"""The marts find exactly the planted story; every expected figure comes from `demo/spec.py`."""

from collections import defaultdict
from decimal import Decimal

import duckdb
import pytest

from demo import spec

CENT = Decimal("0.01")


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> list[tuple]:
    return con.execute(query, params or {}).fetchall()


def _usd(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _cnc_importer_declarations() -> list[spec.Declaration]:
    inn = spec.CNC_IMPORTER.inn
    planted = [s for s in spec.planted_cnc_shipments() if s.importer_inn == inn]
    others = [d for d in spec.planted_other_declarations() if d.importer_inn == inn]
    return [*planted, *others]


@pytest.mark.parametrize("year", [2023, 2024])
def test_cnc_importer_tops_the_risk_view(warehouse: duckdb.DuckDBPyConnection, year: int) -> None:
    declarations = [d for d in _cnc_importer_declarations() if d.date.year == year]
    total = sum(d.statistical_value_usd for d in declarations)
    tw_cnc = sum(
        d.statistical_value_usd
        for d in declarations
        if d.origin_country == "TW" and d.hs6 in spec.CNC_HS6
    )
    invoices = [
        i
        for i in spec.planted_sales_invoices()
        if i.seller_inn == spec.CNC_IMPORTER.inn and i.invoice_date.startswith(str(year))
    ]
    defence = sum(i.amount_rub for i in invoices if i.buyer_kind == "defence")
    sales = sum(i.amount_rub for i in invoices)

    row = _rows(
        warehouse,
        "select risk_rank, shipments, total_imports_usd, main_dual_use_origin, "
        "main_dual_use_tag, main_dual_use_share, defence_sales_share, revenue_rub "
        "from marts.importer_profile where importer_inn = $inn and year = $year",
        {"inn": spec.CNC_IMPORTER.inn, "year": year},
    )
    assert len(row) == 1
    rank, shipments, total_usd, origin, tag, share, defence_share, revenue = row[0]
    assert rank == 1
    assert shipments == len(declarations)
    assert _usd(total_usd) == total
    assert (origin, tag) == ("TW", "CHPL-4B")
    assert share == pytest.approx(float(tw_cnc / total), abs=1e-4)
    assert defence_share == pytest.approx(float(defence / sales), abs=1e-6)
    assert defence_share > 0.8
    assert revenue == spec.cnc_importer_revenue_thousand_rub()[year] * 1000


def test_listed_flags_follow_the_two_clocks(warehouse: duckdb.DuckDBPyConnection) -> None:
    counterparty = spec.SANCTIONED_COUNTERPARTY
    planted = [s for s in spec.planted_cnc_shipments() if s.importer_inn == counterparty.inn]
    expected = {
        (
            "listed_at_shipment"
            if s.declaration_date >= counterparty.listed_from
            else "listed_later",
            s.declaration_id,
        )
        for s in planted
    }
    actual = set(
        _rows(
            warehouse,
            "select reason, declaration_id from marts.flagged_shipments "
            "where reason in ('listed_at_shipment', 'listed_later')",
        )
    )
    assert actual == expected


def test_every_planted_third_country_route_is_flagged(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    planted = {s.declaration_id for s in spec.planted_cnc_shipments() if s.via_third_country}
    flagged = {
        row[0]
        for row in _rows(
            warehouse,
            "select declaration_id from marts.flagged_shipments "
            "where reason = 'routed_via_third_country' and origin_country = 'TW' "
            "and hs6 in (select unnest($hs6))",
            {"hs6": list(spec.CNC_HS6)},
        )
    }
    assert flagged == planted

    routes: dict[str, Decimal] = defaultdict(Decimal)
    for shipment in spec.planted_cnc_shipments():
        if shipment.via_third_country:
            routes[shipment.dispatch_country] += shipment.statistical_value_usd
    actual = {
        dispatch: _usd(value)
        for dispatch, value in _rows(
            warehouse,
            "select dispatch_country, sum(value_usd) from marts.transshipment_routes "
            "where origin_country = 'TW' and hs6 in (select unnest($hs6)) group by all",
            {"hs6": list(spec.CNC_HS6)},
        )
    }
    assert actual == dict(routes)


def test_controls_in_force_and_defence_end_use_are_flagged(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # Taiwan's step governs exports from Taiwan; Taiwan-made goods re-exported from a third
    # country after it took effect are flagged as routed, with the step named in the evidence.
    after_taiwan_step = [
        s for s in spec.planted_cnc_shipments() if s.declaration_date >= spec.CONTROL_DATES[1]
    ]
    flagged = {
        row[0]
        for row in _rows(
            warehouse,
            "select declaration_id from marts.flagged_shipments "
            "where reason = 'controlled_after_effective' "
            "and list_contains(measures_in_force, 'TW-2024-03-08') "
            "and evidence like '%TW-2024-03-08%'",
        )
    }
    assert flagged == {s.declaration_id for s in after_taiwan_step if s.dispatch_country == "TW"}
    reexported = {
        row[0]
        for row in _rows(
            warehouse,
            "select declaration_id from marts.flagged_shipments "
            "where reason = 'routed_via_third_country' and evidence like '%re-exported after%' "
            "and evidence like '%TW-2024-03-08%'",
        )
    }
    assert reexported == {s.declaration_id for s in after_taiwan_step if s.dispatch_country != "TW"}
    assert reexported, "the demo plants re-exports via TR and CN after Taiwan's step"
    defence_flags = _rows(
        warehouse,
        "select count(*) from marts.flagged_shipments "
        "where reason = 'defence_end_user' and importer_inn = $inn",
        {"inn": spec.CNC_IMPORTER.inn},
    )
    cnc = [s for s in spec.planted_cnc_shipments() if s.importer_inn == spec.CNC_IMPORTER.inn]
    assert defence_flags == [(len(cnc),)]


def test_the_decoy_is_never_flagged(warehouse: duckdb.DuckDBPyConnection) -> None:
    assert _rows(
        warehouse,
        "select count(*) from marts.flagged_shipments where importer_inn = $inn",
        {"inn": spec.DECOY.inn},
    ) == [(0,)]
    assert _rows(
        warehouse,
        "select count(*) from marts.sanctions_list_changes "
        "where list_contains(matched_importer_inns, $inn)",
        {"inn": spec.DECOY.inn},
    ) == [(0,)]


def test_the_real_list_change_and_its_effect(warehouse: duckdb.DuckDBPyConnection) -> None:
    counterparty = spec.SANCTIONED_COUNTERPARTY
    planted = [s for s in spec.planted_cnc_shipments() if s.importer_inn == counterparty.inn]
    affected = _rows(
        warehouse,
        "select entry_id, change, to_snapshot::varchar, matched_importer_inns, "
        "shipments_flag_changed, value_usd_flag_changed "
        "from marts.sanctions_list_changes where importers_affected > 0",
    )
    assert affected == [
        (
            str(counterparty.ofac_ent_num),
            "ADDED",
            counterparty.listed_from,
            [counterparty.inn],
            len(planted),
            float(sum(s.statistical_value_usd for s in planted)),
        )
    ]


def test_mirror_gap_shows_taiwan_cnc_rerouted_away_from_russia(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    planted = spec.planted_cnc_shipments()
    importer_side = sum(s.statistical_value_usd for s in planted)
    exporter_side = sum(s.mirror_fob_usd for s in planted if s.dispatch_country == "TW")
    m, x = _rows(
        warehouse,
        "select sum(importer_reported_usd), sum(exporter_reported_usd) "
        "from marts.mirror_trade_monthly "
        "where exporter_country = 'TW' and hs6 in (select unnest($hs6))",
        {"hs6": list(spec.CNC_HS6)},
    )[0]
    assert _usd(m) == importer_side
    assert _usd(x) == exporter_side
    assert m > x  # Russia records more Taiwan CNC than Taiwan says it shipped to Russia


def test_screening_finds_the_counterparty_by_identifier_and_never_the_decoy(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    counterparty = spec.SANCTIONED_COUNTERPARTY
    rows = _rows(
        warehouse,
        "select automatic_decision, final_decision, reviewed, explanation "
        "from marts.screening_matches where party_key = $inn and entry_id = $entry",
        {"inn": counterparty.inn, "entry": str(counterparty.ofac_ent_num)},
    )
    assert len(rows) == 1
    automatic, final, reviewed, explanation = rows[0]
    assert (automatic, final, reviewed) == ("match", "confirmed", True)
    assert explanation.startswith("Identifier match")
    decoy = _rows(
        warehouse,
        "select count(*) from core.entity_matches where inn = $inn and decision = 'match'",
        {"inn": spec.DECOY.inn},
    )
    assert decoy == [(0,)]


def test_every_automatic_name_match_left_in_the_demo_was_reviewed(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    unreviewed = _rows(
        warehouse,
        "select party_key, entry_id from marts.screening_matches "
        "where automatic_decision = 'match' and not reviewed",
    )
    assert unreviewed == []
    assert _rows(
        warehouse,
        "select count(*) from marts.screening_matches where final_decision = 'false_positive'",
    ) == [(6,)]
