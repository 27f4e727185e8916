"""The auditor's manifest and report, and reproducible content checksums."""

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from conftest import DemoBuild, settings_for

from assets.audit.report import render
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


def _hostile_manifest(text: str) -> dict[str, Any]:
    """A manifest whose every free-text field holds `text`, and whose counts are negative."""
    return {
        "run_id": "0123456789abcdef",
        "published_at": "2026-11-01T00:00:00+00:00",
        "code": {"git_commit": text, "git_dirty": False, "uv_lock_sha256": "0" * 64},
        "inputs": [{"dataset": text, "file": text, "sha256": "a" * 64, "rows": -3, "staged": -3.5}],
        "versions": {
            "sanctions": [
                {"list": text, "snapshot": text, "sha256": "b" * 64, "parser": text, "entries": 1}
            ],
            "control_lists": [
                {"measure": text, "announced_on": None, "effective_from": text, "hs6_codes": 2}
            ],
        },
        "checks": [
            {"asset": text, "check": text, "passed": False, "severity": text, "description": text}
        ],
        "expectations": [
            {"dataset": text, "expectation": text, "column": text, "success": True, "unexpected": 0}
        ],
        "tables": {text: {"rows": 5, "checksum": text}},
    }


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://evil","x")', "+1+cmd", "-2+3", "@SUM(A1)"])
def test_report_cells_are_escaped_and_neutralized(formula: str) -> None:
    text = formula + "<b>&'</b>"
    html = render(_hostile_manifest(text))
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    text_cells = [re.sub(r"<[^>]+>", "", c) for c in cells if "&lt;b&gt;" in c]
    assert "<b>" not in html
    # every field that held the hostile text is there, escaped and behind an apostrophe
    assert len(text_cells) == 17
    unguarded = re.compile("(?<!')" + re.escape(formula))
    assert [c for c in text_cells if unguarded.search(unescape(c))] == []
    assert unescape(text_cells[0]) == "'" + text


def test_report_keeps_negative_numbers_as_numbers() -> None:
    html = render(_hostile_manifest("ok"))
    numeric = re.findall(r'<td class="n">(.*?)</td>', html)
    assert numeric[:2] == ["-3", "-3.5"]
    assert not any(cell.startswith("'") for cell in numeric)
