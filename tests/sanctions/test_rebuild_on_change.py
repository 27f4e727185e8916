"""A new sanctions snapshot in the landing area triggers a rebuild of exactly what depends on it."""

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import demo_months, settings_for

from assets.common.landing import LandingArea
from assets.common.paths import REFERENCE_DIR
from assets.common.warehouse import Warehouse
from assets.sanctions.approvals import approvals_path
from assets.sanctions.registry import landed_snapshots
from assets.sanctions.sensors import (
    LIST_VERSION_TAG,
    NEW_SNAPSHOTS_TAG,
    rebuild_after_list_change,
    sanctions_snapshot_sensor,
)
from demo import spec
from orchestration import cli
from orchestration.definitions import build_definitions, defs

SNAPSHOTS = REFERENCE_DIR / "sanctions" / "ofac_sdn"


def _land(landing: Path, name: str) -> None:
    folder = landing / "sanctions" / "ofac_sdn"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SNAPSHOTS / name, folder / name)
    # a delivered customs month: a list change rebuilds the monthly tables over every month
    customs = landing / "customs"
    customs.mkdir(exist_ok=True)
    (customs / "declarations_2024-01.csv").touch()


def test_a_list_change_rebuilds_every_month_and_waits_for_a_first_one(tmp_path: Path) -> None:
    folder = tmp_path / "sanctions" / "ofac_sdn"
    folder.mkdir(parents=True)
    shutil.copyfile(SNAPSHOTS / "sdn_2024-02-20.csv", folder / "sdn_2024-02-20.csv")
    with dg.instance_for_test() as instance:
        waiting = _tick(instance, tmp_path, None)
        assert not waiting.run_requests and waiting.cursor is None  # seen again next tick
        customs = tmp_path / "customs"
        customs.mkdir()
        for month in ("2024-03", "2023-11", "2024-01"):
            (customs / f"declarations_{month}.csv").touch()
        (request,) = _tick(instance, tmp_path, None).run_requests or []
        assert request.tags["dagster/asset_partition_range_start"] == "2023-11"
        assert request.tags["dagster/asset_partition_range_end"] == "2024-03"
        assert request.tags["chokepoint/writes"] == "warehouse"


def _tick(
    instance: dg.DagsterInstance, landing: Path, cursor: str | None, published: Path | None = None
) -> dg.SensorResult:
    published = published or landing.parent / "absent" / "w.duckdb"
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "landing": LandingArea(path=str(landing)),
            "warehouse": Warehouse(
                build_path=str(published.with_suffix(".build.duckdb")),
                published_path=str(published),
            ),
        },
    ) as context:
        result = sanctions_snapshot_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_sensor_requests_one_run_per_new_snapshot(tmp_path: Path) -> None:
    _land(tmp_path, "sdn_2024-02-20.csv")
    with dg.instance_for_test() as instance:
        first = _tick(instance, tmp_path, None)
        assert first.run_requests is not None and len(first.run_requests) == 1
        assert first.run_requests[0].tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-20"

        quiet = _tick(instance, tmp_path, first.cursor)
        assert not quiet.run_requests
        assert quiet.skip_reason is not None

        _land(tmp_path, "sdn_2024-02-23.csv")
        second = _tick(instance, tmp_path, first.cursor)
        (request,) = second.run_requests or []
        assert request.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-23"
        assert request.tags[NEW_SNAPSHOTS_TAG] == "ofac_sdn@2024-02-23"
        assert json.loads(second.cursor or "{}").keys() == {
            "ofac_sdn@2024-02-20",
            "ofac_sdn@2024-02-23",
        }


def _publish_outcomes(published: Path, rejected: list[str], held: list[str]) -> None:
    """A published warehouse that knows these 2024-02-23 snapshots as rejected or held."""
    published.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(published))
    con.execute("create schema audit")
    for table, fingerprints in (("sanctions_rejections", rejected), ("pending_delistings", held)):
        con.execute(
            f"create table audit.{table} as select 'ofac_sdn' as list_id, "
            "date '2024-02-23' as snapshot_date, unnest($f) as fingerprint",
            {"f": fingerprints},
        )
    con.close()


def test_the_list_version_tag_leaves_out_snapshots_known_rejected_or_held(tmp_path: Path) -> None:
    landing, published = tmp_path / "landing", tmp_path / "warehouse" / "w.duckdb"
    _land(landing, "sdn_2024-02-20.csv")
    _land(landing, "sdn_2024-02-23.csv")
    (later,) = [s for s in landed_snapshots(landing) if s.as_of.isoformat() == "2024-02-23"]
    with dg.instance_for_test() as instance:
        # nothing known yet: the newest landed snapshot is expected to come into force
        (request,) = _tick(instance, landing, None, published).run_requests or []
        assert request.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-23"
        for rejected, held in (([later.fingerprint], []), ([], [later.fingerprint])):
            _publish_outcomes(published, rejected, held)
            (request,) = _tick(instance, landing, None, published).run_requests or []
            assert request.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-20"
            published.unlink()

        # a held snapshot: an approval row landing launches a run that expects it in force
        _publish_outcomes(published, [], [later.fingerprint])
        cursor = _tick(instance, landing, None, published).cursor
        assert not _tick(instance, landing, cursor, published).run_requests
        path = approvals_path(landing)
        path.parent.mkdir(parents=True)
        sha256 = later.files["sdn"].sha256
        path.write_text(
            f"list_id,snapshot_sha256,reviewer,approved_on,note\nofac_sdn,{sha256},r,2024-03-01,ok\n",
            encoding="utf-8",
        )
        (request,) = _tick(instance, landing, cursor, published).run_requests or []
        assert request.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-23"
        assert request.tags[NEW_SNAPSHOTS_TAG] == ""


def test_rebuild_selects_the_sanctions_assets_and_their_dependants_only() -> None:
    job = defs.resolve_job_def(rebuild_after_list_change.name)
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {
        "raw/sanctions_files",
        "core/sanctions_list_history",
        "core/shipment_listings",
        "core/companies",
        "marts/dual_use_trade_monthly",
        "audit/publications",
    } <= selected
    assert not any(
        key.startswith(("raw/customs", "staging/customs", "raw/trade")) for key in selected
    )
    assert not any(key.endswith(("company_registry", "sales_invoices")) for key in selected)
    # what no list changes is not rebuilt for a new list version: not every declaration, only
    # the listed importers' (core.shipment_listings), and the marts from list-free core tables
    list_free = {
        "core/shipments",
        "core/shipment_controls",
        "core/controlled_shipments",
        "core/importer_years",
    }
    assert not list_free & selected
    assert {"marts/flagged_shipments", "marts/importer_profile"} <= selected


def _counterparty_status(warehouse: Path) -> tuple[bool, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        listed = con.execute(
            "select coalesce(bool_or(importer_listed_now), false) from core.shipment_listings "
            "where importer_inn = $inn",
            {"inn": spec.SANCTIONED_COUNTERPARTY.inn},
        ).fetchall()[0][0]
        versions = con.execute(
            "select distinct sanctions_list_versions from marts.dual_use_trade_monthly"
        ).fetchall()
    finally:
        con.close()
    assert len(versions) == 1
    return bool(listed), versions[0][0]


@pytest.mark.e2e
def test_landing_the_real_2024_02_23_snapshot_flips_the_counterparty(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    cli.seed_landing(settings)
    later = settings.landing_dir / "sanctions" / "ofac_sdn" / "sdn_2024-02-23.csv"
    later.unlink()
    with dg.instance_for_test() as instance:
        definitions = build_definitions(settings)
        first_run = definitions.resolve_job_def("build_everything").execute_in_process(
            instance=instance,
            tags=demo_months(instance),
        )
        assert first_run.success
        assert _counterparty_status(settings.warehouse_path) == (False, "ofac_sdn@2024-02-20")

        published = settings.warehouse_path
        cursor = _tick(instance, settings.landing_dir, None, published).cursor
        _land(settings.landing_dir, "sdn_2024-02-23.csv")
        (request,) = _tick(instance, settings.landing_dir, cursor, published).run_requests or []

        rebuild = definitions.resolve_job_def(rebuild_after_list_change.name).execute_in_process(
            instance=instance, tags=request.tags
        )
        assert rebuild.success
        assert request.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-23"
        stored = instance.get_run_by_id(rebuild.run_id)
        assert stored is not None and stored.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-23"
        assert _counterparty_status(settings.warehouse_path) == (True, "ofac_sdn@2024-02-23")

        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        # The analyst's decision on the pair, made in the decisions file, applies to the new list.
        review = con.execute(
            "select final_decision, reviewer from marts.screening_matches "
            "where party_key = $inn and entry_id = '47497'",
            {"inn": spec.SANCTIONED_COUNTERPARTY.inn},
        ).fetchall()
        assert review == [("confirmed", "analyst-demo")]
        steps = {
            row[0]
            for row in con.execute(
                "select asset_key from audit.step_log where run_id = $run",
                {"run": rebuild.run_id},
            ).fetchall()
        }
        con.close()
        assert "core/shipment_listings" in steps
        assert "core/shipments" not in steps
        ingest = ("raw/customs", "staging/customs", "raw/trade", "staging/trade", "raw/sales")
        assert not any(step.startswith(ingest) for step in steps)
