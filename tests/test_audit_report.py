"""The auditor's manifest and report, and reproducible content checksums."""

import json
import re
from pathlib import Path

import pytest
from conftest import DemoBuild, settings_for

from orchestration import cli


def _manifest(build: DemoBuild) -> dict:
    return json.loads((build.settings.reports_dir / "manifest.json").read_text())


def test_manifest_lists_inputs_versions_checks_and_tables(demo_build: DemoBuild) -> None:
    manifest = _manifest(demo_build)
    customs = [i for i in manifest["inputs"] if i["dataset"] == "customs_declarations"]
    assert len(customs) == 36
    assert all(i["rows"] == i["staged"] + i["quarantined"] for i in customs)
    assert sum(i["quarantined"] for i in customs) > 0
    assert [v["snapshot"] for v in manifest["versions"]["sanctions"]] == [
        "2024-02-20",
        "2024-02-23",
    ]
    assert {v["measure"] for v in manifest["versions"]["control_lists"]} >= {"TW-2024-03-08"}
    assert manifest["checks"] and all(c["passed"] for c in manifest["checks"])
    assert {c["check"] for c in manifest["checks"]} >= {"rows_conserved", "matches_contract"}
    assert manifest["tables"]["marts.importer_profile"]["rows"] > 0
    assert len(manifest["code"]["uv_lock_sha256"]) == 64


def test_report_is_one_self_contained_page(demo_build: DemoBuild) -> None:
    html = (demo_build.settings.reports_dir / "report.html").read_text()
    assert not re.search(r"https?://|<script|<link|@import|src=", html)
    manifest = _manifest(demo_build)
    for item in manifest["inputs"]:
        assert item["file"] in html
    assert "All " in html and "checks passed" in html
    assert manifest["code"]["git_commit"] in html
    run_copy = demo_build.settings.reports_dir / "runs" / manifest["run_id"] / "report.html"
    assert run_copy.read_text() == html


def test_rebuilding_from_the_same_landing_files_gives_identical_tables(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path / "again")
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    cli.prepare_dagster_home(settings)
    cli.seed_landing(settings)
    assert cli.build(settings)
    first = _manifest(demo_build)["tables"]
    second = json.loads((settings.reports_dir / "manifest.json").read_text())["tables"]
    assert first.keys() == second.keys()
    differing = [t for t in first if first[t] != second[t]]
    assert differing == []
