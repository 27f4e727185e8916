"""The auditor's manifest and report, and reproducible content checksums."""

import hashlib
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, DemoBuild, settings_for

from assets.audit import manifest as runs
from assets.audit.report import render
from orchestration import cli

SVG_NAMESPACE = 'xmlns="http://www.w3.org/2000/svg"'


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
    assert manifest["status"] == "pass"
    assert {v["jurisdiction"] for v in manifest["versions"]["control_lists"]} >= {"TW", "MULTI"}
    assert {c["check"] for c in manifest["checks"]} >= {"rows_conserved", "matches_contract"}
    assert manifest["tables"]["marts.importer_profile"]["rows"] > 0
    assert len(manifest["code"]["uv_lock_sha256"]) == 64


def _reports(build: DemoBuild) -> list[Path]:
    """The latest report and the run's own copy."""
    reports = build.settings.reports_dir
    return [reports / "report.html", reports / "runs" / _manifest(build)["run_id"] / "report.html"]


def test_report_is_one_self_contained_page(demo_build: DemoBuild) -> None:
    manifest = _manifest(demo_build)
    for page in _reports(demo_build):
        html = page.read_text().replace(SVG_NAMESPACE, "")  # a name, not a request
        assert not re.search(r"https?://|<script|<link|@import|src=", html)
        for item in manifest["inputs"]:
            assert item["file"] in html
        assert re.search(r"(\d+) of \1 checks passed", html)
        assert manifest["code"]["git_commit"] in html


def test_the_summary_comes_first_with_status_rows_and_versions(demo_build: DemoBuild) -> None:
    manifest = _manifest(demo_build)
    html = (demo_build.settings.reports_dir / "report.html").read_text()
    order = [html.index(h) for h in ("<h2>Summary", 'id="charts"', 'id="quarantine"', "<h2>Code")]
    assert order == sorted(order)
    summary = html[order[0] : order[1]]
    assert '<span class="badge pass">PASS</span>' in summary
    assert f"{len(manifest['checks'])} of {len(manifest['checks'])} checks passed" in summary
    customs = [i for i in manifest["inputs"] if i["dataset"] == "customs_declarations"]
    row = [len(customs), sum(i["rows"] for i in customs), sum(i["staged"] for i in customs)]
    cells = "".join(f'<td class="n">{n}</td>' for n in row)
    assert f"<td>customs_declarations</td>{cells}" in summary
    for version in manifest["versions"]["sanctions"]:
        assert f"<code>{version['sha256']}</code>" in summary
    for measure in manifest["versions"]["control_lists"]:
        assert f"<td>{measure['measure']}</td><td>{measure['jurisdiction']}</td>" in summary


def test_every_input_is_shown_with_the_full_sha256_of_its_file(demo_build: DemoBuild) -> None:
    manifest = _manifest(demo_build)
    html = (demo_build.settings.reports_dir / "report.html").read_text()
    for item in manifest["inputs"]:
        # a delivery is read from the landing area, a reference file from the repository
        places = [demo_build.settings.landing_dir / item["file"], REPO_ROOT / item["file"]]
        on_disk = next(place for place in places if place.is_file())
        assert item["sha256"] == hashlib.sha256(on_disk.read_bytes()).hexdigest(), item["file"]
        assert f"<code>{item['sha256']}</code>" in html
    assert "…" not in html.split('id="inputs"')[1]


def _targets(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_every_link_of_the_report_and_its_run_copy_resolves(demo_build: DemoBuild) -> None:
    for page in _reports(demo_build):
        html = page.read_text()
        targets = _targets(html)
        assert {"manifest.json", "#inputs"} <= set(targets)
        assert any(t.endswith("data_docs/index.html") for t in targets)
        for target in targets:
            if target.startswith("#"):
                assert f'id="{target[1:]}"' in html, (page, target)
            else:
                assert (page.parent / target).resolve().is_file(), (page, target)


def test_the_run_copy_differs_from_the_latest_only_in_its_links(demo_build: DemoBuild) -> None:
    latest, run_copy = (page.read_text() for page in _reports(demo_build))
    assert run_copy.replace('href="../../', 'href="') == latest
    manifest = _manifest(demo_build)
    assert render(manifest) == latest  # drawn from the manifest alone, the same every time


@pytest.mark.e2e
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
        "quarantine": [
            {
                "dataset": text,
                "reason": text,
                "rows": 1,
                "key": text,
                "examples": [{"file": text, "row": 1, "key": text, "reason": text}],
            }
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
    assert len(text_cells) == 23
    unguarded = re.compile("(?<!')" + re.escape(formula))
    assert [c for c in text_cells if unguarded.search(unescape(c))] == []
    assert unescape(text_cells[0]) == "'" + text


def test_report_keeps_negative_numbers_as_numbers() -> None:
    html = render(_hostile_manifest("ok"))
    numeric = re.findall(r'<td class="n">(.*?)</td>', html.split('id="inputs"')[1])
    assert numeric[:2] == ["-3", "-3.5"]
    assert not any(cell.startswith("'") for cell in numeric)


@pytest.mark.parametrize(
    ("failed", "expectation_met", "status"),
    [
        ([], True, "pass"),
        (["WARN"], True, "warn"),
        ([], False, "warn"),
        (["WARN", "ERROR"], True, "fail"),
    ],
)
def test_the_status_is_the_worst_outcome(
    failed: list[str], expectation_met: bool, status: str
) -> None:
    checks = [{"passed": True, "severity": "ERROR"}] + [
        {"passed": False, "severity": severity} for severity in failed
    ]
    assert runs.overall_status(checks, [{"success": expectation_met}]) == status
