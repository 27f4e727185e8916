"""A full build of the demo data finds exactly what `demo/spec.py` planted.

Expected figures are computed here from the specification's records, never copied from a run.
"""

from collections import defaultdict
from decimal import Decimal

import duckdb
import pytest
from conftest import DemoBuild

from assets.common.paths import REFERENCE_DIR
from assets.common.raw import sha256_file
from demo import spec

LAYERS = {"raw", "staging", "core", "marts", "quarantine", "audit"}


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> list[tuple]:
    return con.execute(query, params or {}).fetchall()


def test_build_succeeds_and_publishes_every_layer(demo_build: DemoBuild) -> None:
    assert demo_build.succeeded
    assert demo_build.settings.warehouse_path.is_file()
    con = demo_build.connect()
    schemas = {row[0] for row in _rows(con, "select distinct schema_name from duckdb_tables()")}
    assert schemas >= LAYERS
    manifest = demo_build.settings.reports_dir / "manifest.json"
    assert manifest.is_file()


def test_mart_holds_the_planted_taiwan_cnc_flow(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Background never combines origin TW with a tier-4B code, so every TW-exporter tier-4B row
    # in the mart is made of planted shipments.
    expected: dict[tuple[str, str], list[Decimal | int]] = defaultdict(lambda: [Decimal(0), 0])
    for shipment in spec.planted_cnc_shipments():
        if shipment.exporter_country == "TW":
            key = (shipment.month, shipment.hs6)
            expected[key][0] += shipment.statistical_value_usd
            expected[key][1] += 1
    actual = {
        (month.strftime("%Y-%m"), hs6): [Decimal(str(value)).quantize(Decimal("0.01")), shipments]
        for month, hs6, value, shipments in _rows(
            warehouse,
            "select month, hs6, value_usd, shipments from marts.dual_use_trade_monthly "
            "where exporter_country = 'TW' and importer_country = 'RU' "
            "and control_tag = 'CHPL-4B'",
        )
    }
    assert actual == {key: [value, count] for key, (value, count) in expected.items()}


def test_cnc_importer_totals_match_the_specification(warehouse: duckdb.DuckDBPyConnection) -> None:
    planted = [s for s in spec.planted_cnc_shipments() if s.importer_inn == spec.CNC_IMPORTER.inn]
    count, value, via_third = _rows(
        warehouse,
        "select count(*), sum(statistical_value_usd)::decimal(18, 2), "
        "count(*) filter (routed_via_third_country) from core.shipments "
        "where importer_inn = $inn and origin_country = 'TW' and hs6 in (select unnest($hs6))",
        {"inn": spec.CNC_IMPORTER.inn, "hs6": list(spec.CNC_HS6)},
    )[0]
    assert count == len(planted) == 61
    assert value == sum(s.statistical_value_usd for s in planted) == Decimal("20000000.00")
    assert via_third == sum(s.via_third_country for s in planted)
    tw_share = _rows(
        warehouse,
        "select sum(statistical_value_usd) filter (origin_country = 'TW' "
        "and hs6 in (select unnest($hs6))) / sum(statistical_value_usd) "
        "from core.shipments where importer_inn = $inn",
        {"inn": spec.CNC_IMPORTER.inn, "hs6": list(spec.CNC_HS6)},
    )[0][0]
    assert tw_share > 0.95


def test_counterparty_is_listed_only_from_the_real_ofac_change(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    counterparty = spec.SANCTIONED_COUNTERPARTY
    planted = {
        s.declaration_id: s.declaration_date >= counterparty.listed_from
        for s in spec.planted_cnc_shipments()
        if s.importer_inn == counterparty.inn
    }
    actual = {
        declaration_id: (on_date, now, entries)
        for declaration_id, on_date, now, entries in _rows(
            warehouse,
            "select declaration_id, listings.importer_listed_on_date, "
            "listings.importer_listed_now, listings.importer_list_entries "
            "from core.shipments as shipments "
            "left join core.shipment_listings as listings using (declaration_id) "
            "where shipments.importer_inn = $inn",
            {"inn": counterparty.inn},
        )
    }
    assert set(actual) == set(planted)
    for declaration_id, listed_by_then in planted.items():
        on_date, now, entries = actual[declaration_id]
        assert on_date is listed_by_then, declaration_id
        assert now is True
        assert entries == f"ofac_sdn:{counterparty.ofac_ent_num}"
    assert sorted(planted.values()).count(False) == 3


def test_decoy_never_matches(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = _rows(
        warehouse,
        "select count(*), count(listings.declaration_id) from core.shipments as shipments "
        "left join core.shipment_listings as listings using (declaration_id) "
        "where shipments.importer_inn = $inn",
        {"inn": spec.DECOY.inn},
    )[0]
    assert rows[0] > 0
    assert rows[1] == 0
    listed = _rows(
        warehouse, "select listed_now from core.companies where inn = $inn", {"inn": spec.DECOY.inn}
    )
    assert listed == [(False,)]


def test_malformed_rows_are_quarantined_with_a_reason(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    expected = {
        (row.month, row.declaration_id or None, row.column) for row in spec.malformed_rows()
    }
    rows = _rows(
        warehouse,
        "select partition_month, nullif(declaration_id, ''), reasons "
        "from quarantine.customs_declarations",
    )
    assert len(rows) == len(expected)
    for month, declaration_id, reasons in rows:
        columns = {reason.split(":")[0] for reason in reasons}
        matched = [e for e in expected if e[:2] == (month, declaration_id) and e[2] in columns]
        assert matched, (month, declaration_id, reasons)


def test_invalid_inns_are_kept_flagged_and_never_joined(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    for importer in spec.invalid_inn_importers():
        rows = _rows(
            warehouse,
            "select count(*), bool_or(importer_inn_valid), count(listings.declaration_id) "
            "from core.shipments as shipments "
            "left join core.shipment_listings as listings using (declaration_id) "
            "where shipments.importer_inn = $inn",
            {"inn": importer.declared_inn},
        )[0]
        assert rows[0] > 0, importer
        assert rows[1] is False and rows[2] == 0
    quarantined = _rows(
        warehouse,
        "select count(*) from quarantine.customs_declarations "
        "where importer_inn in (select unnest($inns))",
        {"inns": [i.declared_inn for i in spec.invalid_inn_importers()]},
    )
    assert quarantined == [(0,)]


@pytest.mark.parametrize(
    "dataset",
    ["customs_declarations", "trade_statistics", "company_registry", "sales_invoices"],
)
def test_every_received_row_is_staged_or_quarantined(
    warehouse: duckdb.DuckDBPyConnection, dataset: str
) -> None:
    counts = [
        _rows(warehouse, f"select count(*) from {layer}.{dataset}")[0][0]  # noqa: S608
        for layer in ("raw", "staging", "quarantine")
    ]
    assert counts[0] == counts[1] + counts[2]
    assert counts[0] > 0


def test_raw_rows_carry_their_file_and_its_sha256(demo_build: DemoBuild) -> None:
    con = demo_build.connect()
    files = _rows(
        con,
        "select source_file, any_value(source_sha256), count(*), max(source_row_number) "
        "from raw.customs_declarations group by source_file",
    )
    assert len(files) == len(spec.MONTHS)
    for source_file, sha256, count, last_row in files:
        assert sha256 == sha256_file(demo_build.settings.landing_dir / source_file)
        assert last_row == count


def test_marts_say_which_list_version_built_them(warehouse: duckdb.DuckDBPyConnection) -> None:
    versions = _rows(
        warehouse, "select distinct sanctions_list_versions from marts.dual_use_trade_monthly"
    )
    assert versions == [("ofac_sdn@2024-02-23",)]


def test_step_log_counts_every_step_of_the_run(warehouse: duckdb.DuckDBPyConnection) -> None:
    steps = dict(
        _rows(
            warehouse,
            "select asset_key, rows_quarantined from audit.step_log "
            "where run_id = (select run_id from audit.publications "
            "order by published_at desc limit 1)",
        )
    )
    assert steps["staging/customs_declarations"] == len(spec.malformed_rows())
    assert "marts/dual_use_trade_monthly" in steps


def test_every_mart_matches_its_contract(warehouse: duckdb.DuckDBPyConnection) -> None:
    from assets.common.contracts import contract_for_table

    for (table,) in _rows(
        warehouse, "select table_name from duckdb_tables() where schema_name = 'marts'"
    ):
        contract = contract_for_table("marts", table)
        assert contract is not None, table
        built = _rows(
            warehouse,
            "select column_name, data_type from duckdb_columns() "
            "where schema_name = 'marts' and table_name = $t order by column_index",
            {"t": table},
        )
        assert built == [(c.name, c.physical_type) for c in contract.columns], table


def test_invoice_values_are_converted_with_the_monthly_fx_table(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    planted = {
        s.declaration_id: spec.to_usd(s.invoice_value, s.invoice_currency, s.month)
        for s in spec.planted_cnc_shipments()
    }
    converted = dict(
        _rows(
            warehouse,
            "select declaration_id, invoice_value_usd from core.shipments "
            "where declaration_id in (select unnest($ids))",
            {"ids": list(planted)},
        )
    )
    assert converted == planted
    # the demo's customs values were declared with the same rates: they agree everywhere
    assert _rows(
        warehouse,
        "select count(*) filter (invoice_value_usd is null or "
        "invoice_value_usd <> statistical_value_usd::decimal(18, 2)) from core.shipments",
    ) == [(0,)]


def test_the_sdn_matcher_was_built_ahead_of_screening(demo_build: DemoBuild) -> None:
    """The sanctions staging step started the matcher's build; `entity_matches` used it."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(demo_build.settings.dagster_home)) as instance:
        key = dg.AssetKey(["core", "entity_matches"])
        materialization = instance.fetch_materializations(key, limit=1).records[0]
        assert materialization.asset_materialization is not None
        matchers = materialization.asset_materialization.metadata["matchers"].value
    latest = max(p.stem.removeprefix("sdn_") for p in (REFERENCE_DIR / "sanctions").rglob("sdn_*"))
    assert matchers == {f"ofac_sdn@{latest}": "built ahead"}
