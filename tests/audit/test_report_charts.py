"""The report's charts: inline SVG with a text alternative, one mark per value of the warehouse."""

import json
import re
from collections.abc import Iterator
from datetime import date

import duckdb
import pytest
from conftest import DemoBuild

from assets.audit import charts
from assets.common.rule_sentences import reason_group


def _report(build: DemoBuild) -> str:
    return (build.settings.reports_dir / "report.html").read_text()


def _chart(html: str, title_start: str) -> str:
    """The SVG whose title starts with `title_start`, and the data table after it."""
    for found in re.finditer(r"<figure>(<svg.*?</svg>)(.*?)</figure>", html):
        title = re.search(r"<title[^>]*>(.*?)</title>", found.group(1))
        if title and title.group(1).startswith(title_start):
            return found.group(0)
    raise AssertionError(f"no chart titled {title_start!r}")


def _count(svg: str, mark: str) -> int:
    return len(re.findall(rf'<{mark.split(".")[0]} class="{mark.split(".")[1]}"', svg))


@pytest.fixture(scope="module")
def warehouse(demo_build: DemoBuild) -> Iterator[duckdb.DuckDBPyConnection]:
    with demo_build.connect() as con:
        yield con


def test_every_chart_is_inline_svg_with_a_title_a_description_and_its_data(
    demo_build: DemoBuild,
) -> None:
    html = _report(demo_build)
    figures = re.findall(r"<figure>(<svg.*?</svg>)(.*?)</figure>", html)
    assert len(figures) == 4
    for svg, after in figures:
        assert re.search(r'<svg [^>]*role="img"[^>]*aria-labelledby="[^"]+"', svg)
        assert re.search(r"<title id=[^>]*>[^<]+</title><desc id=[^>]*>[^<]+</desc>", svg)
        assert re.search(r'text-anchor="middle">[a-z][^<]*</text></svg>$', svg)  # the x axis
        assert after.startswith("<details><summary>") and "<table>" in after


def test_rows_per_month_has_a_staged_and_a_quarantined_bar_per_month(
    demo_build: DemoBuild, warehouse: duckdb.DuckDBPyConnection
) -> None:
    per_month = dict(
        warehouse.execute(
            "select partition_month, count(*) from staging.customs_declarations group by all"
        ).fetchall()
    )
    quarantined = dict(
        warehouse.execute(
            "select partition_month, count(*) from quarantine.customs_declarations group by all"
        ).fetchall()
    )
    figure = _chart(_report(demo_build), "Customs declarations per month")
    assert _count(figure, "rect.bar") == 2 * len(per_month)
    for month, staged in per_month.items():
        assert f"<title>staged rows, {month}: {charts._number(staged)}</title>" in figure
        shown = charts._number(quarantined.get(month, 0))
        assert f"<title>quarantined rows, {month}: {shown}</title>" in figure
    assert "delivery month" in figure and ">rows<" not in figure  # each panel names its rows


def test_dual_use_value_has_a_point_per_month_and_a_line_per_control_measure(
    demo_build: DemoBuild, warehouse: duckdb.DuckDBPyConnection
) -> None:
    months = [
        m
        for (m,) in warehouse.execute(
            "select distinct strftime(month, '%Y-%m') from marts.dual_use_trade_monthly "
            "where importer_country = 'RU' order by 1"
        ).fetchall()
    ]
    measures = warehouse.execute(
        "select distinct measure_id, effective_from from staging.control_measures"
    ).fetchall()
    in_range = [(m, d) for m, d in measures if months[0] <= d.strftime("%Y-%m") <= months[-1]]
    figure = _chart(_report(demo_build), "Controlled goods imported by Russia")
    assert _count(figure, "circle.point") == len(months)
    assert _count(figure, "line.marker") == len(in_range) > 0
    for measure, day in in_range:
        assert f"<title>{measure}, {day.isoformat()}</title>" in figure
    assert "USD (statistical value)" in figure and ">month<" in figure


def test_dual_use_points_count_each_code_once_however_many_tags_cover_it(
    demo_build: DemoBuild, warehouse: duckdb.DuckDBPyConnection
) -> None:
    by_tag = dict(
        warehouse.execute(
            "select strftime(month, '%Y-%m'), sum(value_usd) from marts.dual_use_trade_monthly "
            "where importer_country = 'RU' group by 1"
        ).fetchall()
    )
    manifest = json.loads((demo_build.settings.reports_dir / "manifest.json").read_text())
    series = manifest["figures"]["dual_use_by_month"]
    assert [r["month"] for r in series] == sorted(by_tag)
    assert all(r["value_usd"] <= by_tag[r["month"]] + 0.01 for r in series)
    assert any(r["value_usd"] < by_tag[r["month"]] - 1 for r in series)  # tags overlap


def test_sanctions_changes_have_three_bars_per_later_snapshot(
    demo_build: DemoBuild, warehouse: duckdb.DuckDBPyConnection
) -> None:
    later = warehouse.execute(
        "select list_id, snapshot_date from core.sanctions_snapshots "
        "qualify snapshot_date > min(snapshot_date) over (partition by list_id)"
    ).fetchall()
    changes = dict(
        warehouse.execute(
            "select change, count(*) from marts.sanctions_list_changes group by all"
        ).fetchall()
    )
    figure = _chart(_report(demo_build), "Sanctions-list changes")
    assert _count(figure, "rect.bar") == 3 * len(later) > 0
    (label,) = [f"{list_id} {day.isoformat()}" for list_id, day in later]
    assert f"<title>added, {label}: {changes.get('ADDED', 0)}</title>" in figure
    assert f"<title>changed, {label}: {changes.get('CHANGED', 0)}</title>" in figure


def test_quarantine_reasons_have_a_bar_per_kind_of_reason(demo_build: DemoBuild, warehouse) -> None:  # type: ignore[no-untyped-def]
    kinds: dict[str, int] = {}
    for (reasons,) in warehouse.execute(
        "select reasons from quarantine.customs_declarations"
    ).fetchall():
        for reason in reasons:
            kinds[reason_group(reason)] = kinds.get(reason_group(reason), 0) + 1
    figure = _chart(_report(demo_build), "Quarantined rows")
    assert _count(figure, "rect.bar") == len(kinds)
    for kind, rows in kinds.items():
        assert f"<title>{kind}: {rows}</title>" in figure.replace("&#x27;", "'")


def test_charts_are_deterministic() -> None:
    args = ("T", "D", ["2024-01", "2024-02"], [1.5, 2.0], [(date(2024, 2, 10), "M")])
    assert charts.monthly_line(*args, y_label="y") == charts.monthly_line(*args, y_label="y")
    assert charts._ticks(1, whole=True) == [0, 1] and charts._ticks(3, whole=True) == [0, 1, 2, 3]
