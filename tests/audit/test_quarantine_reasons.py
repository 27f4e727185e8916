"""The demo's planted malformed rows are quarantined with plain reasons, shown with examples."""

from html import escape

import pytest
from conftest import DemoBuild

from demo import spec

# What each planted defect must read as: `<column>: <sentence>`, then the detail.
PLAIN = {
    "bad_commodity_code": "must be 10 digits",
    "bad_value": "not a number",
    "missing_id": "is required but empty",
    "negative_value": "must not be negative",
    "missing_inn": "is required but empty",
    "bad_date": "not a valid YYYY-MM-DD date",
    "unknown_country": "not an ISO country code",
    "duplicate_id": "duplicate of an earlier row, which is kept",
}
SHOWS_THE_VALUE = {"bad_commodity_code", "bad_value", "bad_date", "unknown_country"}


def _quarantined(build: DemoBuild, row: spec.MalformedRow) -> tuple[int, list[str]]:
    """The row's number in its file and its reasons."""
    file = f"customs/declarations_{row.month}.csv"
    with build.connect() as con:
        found = con.execute(
            "select source_row_number, reasons from quarantine.customs_declarations "
            "where source_file = $file and coalesce(declaration_id, '') = $id",
            {"file": file, "id": row.declaration_id},
        ).fetchall()
    assert len(found) == 1, (row, found)
    return found[0][0], list(found[0][1])


@pytest.mark.parametrize("row", spec.malformed_rows(), ids=lambda r: f"{r.month}-{r.defect}")
def test_each_planted_row_has_one_plain_reason(
    demo_build: DemoBuild, row: spec.MalformedRow
) -> None:
    _, reasons = _quarantined(demo_build, row)
    (reason,) = reasons
    assert reason.startswith(f"{row.column}: {PLAIN[row.defect]}"), reason
    if row.defect in SHOWS_THE_VALUE:
        value = row.values[spec.CUSTOMS_COLUMNS.index(row.column)].strip()
        assert reason == f"{row.column}: {PLAIN[row.defect]} (got {value})"
    if row.defect == "duplicate_id":
        with demo_build.connect() as con:
            (first,) = con.execute(
                "select source_row_number from staging.customs_declarations "
                "where declaration_id = $id",
                {"id": row.declaration_id},
            ).fetchall()[0]
        assert reason.endswith(f"(row {first})")
    assert "must match" not in reason and "must be one of" not in reason


def test_the_report_groups_the_reasons_and_shows_every_planted_row(demo_build: DemoBuild) -> None:
    html = (demo_build.settings.reports_dir / "report.html").read_text()
    section = html.split('id="quarantine"')[1].split("<h2")[0]
    for row in spec.malformed_rows():
        number, (reason,) = _quarantined(demo_build, row)
        file = f"customs/declarations_{row.month}.csv"
        shown = f"<code>{file}</code> row {number}"
        if row.declaration_id:
            shown += f", declaration_id <code>{escape(row.declaration_id)}</code>"
        assert f"{shown}: {escape(reason)}" in section, (row, reason)
        kind = f"{row.column}: {PLAIN[row.defect]}"
        assert f"<td>{escape(kind)}</td>" in section


def test_the_manifest_lists_reasons_with_counts_and_examples(demo_build: DemoBuild) -> None:
    import json

    manifest = json.loads((demo_build.settings.reports_dir / "manifest.json").read_text())
    customs = [q for q in manifest["quarantine"] if q["dataset"] == "customs_declarations"]
    assert sum(q["rows"] for q in customs) == len(spec.malformed_rows())
    assert all(1 <= len(q["examples"]) <= 3 for q in customs)
    assert all(q["key"] == "declaration_id" for q in customs)
    dates = next(
        q for q in customs if q["reason"] == "declaration_date: not a valid YYYY-MM-DD date"
    )
    assert dates["rows"] == 3 and [e["file"] for e in dates["examples"]] == sorted(
        f"customs/declarations_{r.month}.csv"
        for r in spec.malformed_rows()
        if r.defect == "bad_date"
    )
