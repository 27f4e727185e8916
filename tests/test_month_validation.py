"""A monthly run validates its months of the month-partitioned marts and not the marts it did
not rebuild; a ledger covers the rest."""

from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import DemoBuild, copy_of_demo, land_moved_month

from assets.common import sql
from assets.marts.catalog import MARTS
from assets.marts.validation_scope import suite_sha256
from orchestration import cli
from orchestration.settings import Settings

pytestmark = pytest.mark.e2e

MONTHLY = tuple(mart for mart in MARTS if sql.month_column("marts", mart))
WHOLE = {(mart, None) for mart in MARTS if mart not in MONTHLY}
# not downstream of customs deliveries: a customs month does not rebuild it
NOT_IN_A_CUSTOMS_MONTH = "partner_trade_monthly"


def _ledger(settings: Settings) -> dict[tuple[str, date | None], tuple[str, bool, str, str]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "select mart, month, run_id, success, suite_sha256, validated_months "
            "from audit.mart_validations"
        ).fetchall()
    return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}


def _suites(settings: Settings) -> dict[str, str]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return {mart: suite_sha256(mart, con) for mart in MARTS}


def _scopes(settings: Settings) -> dict[str, set[str]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("select dataset, validated_months from audit.mart_quality").fetchall()
    found: dict[str, set[str]] = {}
    for dataset, months in rows:
        found.setdefault(dataset, set()).add(months)
    return found


def _validated_early(settings: Settings) -> list[str]:
    """The marts the last run's steps gave the Great Expectations worker themselves."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        key = dg.AssetKey(["audit", "mart_quality"])
        record = instance.fetch_materializations(key, limit=1).records[0]
        materialization = record.asset_materialization
        assert materialization is not None
        text = str(materialization.metadata["validated_early"].value)
    return [] if text == "none" else text.split(", ")


def _months_held(settings: Settings) -> set[tuple[str, date | None]]:
    """Every month of every month-partitioned mart, and every other mart (month None)."""
    held: set[tuple[str, date | None]] = set(WHOLE)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for mart in MONTHLY:
            column = sql.quote_ident(str(sql.month_column("marts", mart)))
            rows = con.execute(
                f"select distinct date_trunc('month', {column})::date "  # noqa: S608
                f"from {sql.table_ref('marts', mart)}"
            ).fetchall()
            held |= {(mart, row[0]) for row in rows}
    return held


def test_a_month_is_validated_alone_and_the_ledger_covers_every_month(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    settings = copy_of_demo(demo_build, tmp_path)
    built = _ledger(settings)
    # the full build validated every month of every month-partitioned mart, and says so
    assert set(built) == _months_held(settings)
    assert {(ok, scope) for _, ok, _, scope in built.values()} == {(True, "all")}
    suites = _suites(settings)
    assert all(suite == suites[mart] for (mart, _), (_, _, suite, _) in built.items())

    land_moved_month(settings.landing_dir, "2025-01")
    assert cli.build(settings, ("2025-01", "2025-01"), job_name="load_customs")
    # each mart was given to the worker by its own step, as soon as it was written
    assert set(_validated_early(settings)) == set(MARTS) - {NOT_IN_A_CUSTOMS_MONTH}
    scopes = _scopes(settings)
    assert NOT_IN_A_CUSTOMS_MONTH not in scopes  # not rebuilt, so not validated again
    for mart in set(MARTS) - {NOT_IN_A_CUSTOMS_MONTH}:
        assert scopes[mart] == ({"2025-01 to 2025-01"} if mart in MONTHLY else {"all"}), mart
    after = _ledger(settings)
    assert set(after) == _months_held(settings)
    new = {key for key in after if key[1] == date(2025, 1, 1)}
    assert new and {key[0] for key in new} <= set(MONTHLY)
    (month_run,) = {after[key][0] for key in new}
    assert all(after[key][1:] == (True, suites[key[0]], "2025-01 to 2025-01") for key in new)
    revalidated = {key for key in WHOLE if key[0] != NOT_IN_A_CUSTOMS_MONTH}
    assert {after[key][0] for key in revalidated} == {month_run}
    # the other months, and the mart the run did not rebuild, keep the full build's validation
    kept = {key: after[key] for key in after if key not in new | revalidated}
    assert kept == {key: value for key, value in built.items() if key not in revalidated}
    assert kept[(NOT_IN_A_CUSTOMS_MONTH, None)] == built[(NOT_IN_A_CUSTOMS_MONTH, None)]

    # A month the ledger does not hold as passing, outside the run's months, makes the run
    # validate that mart over every month again.
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "update audit.mart_validations set success = false "
            "where mart = 'flagged_shipments' and month = date '2024-03-01'"
        )
        con.execute(
            "delete from audit.mart_validations "
            "where mart = 'dual_use_trade_monthly' and month = date '2023-05-01'"
        )
        con.execute(
            "delete from audit.mart_validations where mart = $mart",
            {"mart": NOT_IN_A_CUSTOMS_MONTH},
        )
        # an older layout: the next run rebuilds the mart over every month, so validates it all
        con.execute("alter table marts.mirror_trade_monthly add column stale integer")
    land_moved_month(settings.landing_dir, "2025-02", source="2023-02")
    assert cli.build(settings, ("2025-02", "2025-02"), job_name="load_customs")
    # the step of a mart validated over every month gives the worker every month; the mart
    # not rebuilt is read by the quality step itself
    assert set(_validated_early(settings)) == set(MARTS) - {NOT_IN_A_CUSTOMS_MONTH}
    scopes = _scopes(settings)
    assert scopes["flagged_shipments"] == scopes["dual_use_trade_monthly"] == {"all"}
    assert scopes[NOT_IN_A_CUSTOMS_MONTH] == {"all"}  # not in the ledger: validated again
    assert scopes["mirror_trade_monthly"] == {"all"}
    assert scopes["transshipment_routes"] == {"2025-02 to 2025-02"}
    final = _ledger(settings)
    assert set(final) == _months_held(settings)
    assert all(ok for _, ok, _, _ in final.values())
    assert final[("flagged_shipments", date(2024, 3, 1))][0] not in {month_run, built_run(built)}


def built_run(ledger: dict[tuple[str, date | None], tuple[str, bool, str, str]]) -> str:
    (run,) = {value[0] for value in ledger.values()}
    return run


def test_a_mart_step_takes_what_it_rewrote_out_of_the_ledger(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """A mart rebuilt by a run without the suites (a selection in the UI) is not left marked as
    validated: its step forgets the months it rewrote, and the next run validates them."""
    import dagster as dg

    from assets.common.partitions import MONTHS_NAME
    from assets.common.sql_assets import sql_table_asset
    from orchestration.resources import resources_for

    settings = copy_of_demo(demo_build, tmp_path)
    before = _ledger(settings)
    (asset,) = sql_table_asset("marts", "transshipment_routes", group="marts", description="-")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(MONTHS_NAME, ["2024-06"])
        assert dg.materialize(
            [asset], instance=instance, partition_key="2024-06", resources=resources_for(settings)
        ).success
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        left = {
            (row[0], row[1])
            for row in con.execute("select mart, month from audit.mart_validations").fetchall()
        }
    assert left == set(before) - {("transshipment_routes", date(2024, 6, 1))}


def test_a_re_execution_validates_every_mart_whole() -> None:
    """Its parent may have rebuilt marts the re-execution does not select: nothing is skipped."""
    from types import SimpleNamespace

    from assets.marts.validation_scope import Plan, plan

    context = SimpleNamespace(
        run=SimpleNamespace(
            parent_run_id="parent",
            tags={
                "dagster/asset_partition_range_start": "2025-01",
                "dagster/asset_partition_range_end": "2025-01",
            },
            asset_selection=set(),
        )
    )
    con = duckdb.connect()
    assert plan(context, con, MARTS) == Plan()  # type: ignore[arg-type]
