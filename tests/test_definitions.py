"""The code location loads, and its asset graph has the shape the design promises."""

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.resources import resources_for
from orchestration.settings import REPO_ROOT, Settings

LAYERS = {"raw", "staging", "core", "marts", "quarantine", "audit"}


def test_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("build_everything") is not None


def test_asset_keys_follow_schema_and_table() -> None:
    for spec in defs.resolve_all_asset_specs():
        schema, table = spec.key.path
        assert schema in LAYERS, spec.key
        assert table.isidentifier(), spec.key
        assert spec.description, f"{spec.key} has no description for the UI"


def test_publication_runs_after_every_table() -> None:
    graph = defs.resolve_asset_graph()
    publish = dg.AssetKey(["audit", "publications"])
    others = {key for key in graph.get_all_asset_keys() if key != publish}
    assert graph.get(publish).parent_keys == others


def test_sql_dependencies_are_read_from_the_sql() -> None:
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["marts", "dual_use_trade_monthly"])).parent_keys
    assert dg.AssetKey(["core", "shipments"]) in parents
    assert dg.AssetKey(["core", "shipment_controls"]) in parents
    assert dg.AssetKey(["core", "sanctions_list_versions"]) in parents


def test_prod_refuses_a_data_dir_inside_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHOKEPOINT_ENV", "prod")
    monkeypatch.delenv("CHOKEPOINT_DATA_DIR", raising=False)
    with pytest.raises(ValueError, match="outside the repository"):
        resources_for(Settings.from_env())


def test_settings_default_to_the_repo_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CHOKEPOINT_ENV", "CHOKEPOINT_DATA_DIR", "CHOKEPOINT_WAREHOUSE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.data_dir == REPO_ROOT / "data"
    assert settings.dagster_home == REPO_ROOT / "data" / "dagster_home"
    assert settings.build_path.parent == settings.warehouse_path.parent
    assert settings.build_path != settings.warehouse_path
