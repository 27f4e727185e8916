"""The auditor's report: one self-contained HTML page per run (no scripts, fonts or CDN assets).

A summary comes first (status, inputs with their full sha256, rows staged and quarantined, checks,
list and control-measure versions), then charts drawn as inline SVG, then why rows were
quarantined (with examples), then the detail. The page is drawn from the run's manifest alone.
`root` is the relative path from the page to the reports folder, so that the latest copy
(`<reports>/report.html`) and the run's own (`<reports>/runs/<run>/report.html`) both link right.
"""

from collections import defaultdict
from datetime import date
from html import escape
from typing import Any

from assets.audit import charts
from assets.audit.html import Html, code, link, status_badge, table, text

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;
color:#1d232b;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #d6dbe1;padding-bottom:.2rem}h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;
padding:.25rem .5rem;border-bottom:1px solid #eceff2;vertical-align:top}
th{background:#f4f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
pre{background:#f4f6f8;padding:.7rem;overflow-x:auto}
.pass{color:#17663a;font-weight:600}.fail{color:#b3261e;font-weight:600}
.warn{color:#8a5a00;font-weight:600}.muted{color:#5b6672}
.badge{border:2px solid currentColor;border-radius:4px;padding:0 .4rem;font-size:1.1rem}
figure{margin:1.2rem 0}svg{max-width:100%;height:auto}details{margin:.3rem 0 1rem}
"""

DATA_DOCS = "data_docs/index.html"


def _outcome(check: dict[str, Any]) -> Html:
    if check["passed"]:
        return Html('<span class="pass">passed</span>')
    css = "warn" if check["severity"] == "WARN" else "fail"
    return Html(f'<span class="{css}">failed ({text(check["severity"])})</span>')


def _met(success: bool) -> Html:
    return Html('<span class="pass">met</span>' if success else '<span class="fail">not met</span>')


def _summary(manifest: dict[str, Any]) -> str:
    checks, expectations = manifest["checks"], manifest["expectations"]
    failed = sum(not c["passed"] for c in checks)
    met = sum(e["success"] for e in expectations)
    status = manifest.get("status", "fail" if failed else "pass")
    per_dataset: dict[str, list[Any]] = defaultdict(lambda: [0, 0, "", ""])
    for item in manifest["inputs"]:
        totals = per_dataset[item["dataset"]]
        totals[0] += 1
        totals[1] += item["rows"]
        for place, key in ((2, "staged"), (3, "quarantined")):
            if key in item:  # only datasets staged through a contract have these
                totals[place] = (totals[place] or 0) + item[key]
    measures = manifest["versions"]["control_lists"]
    published = str(manifest["published_at"])[:10]
    return (
        f"<h2>Summary</h2><p>Status {status_badge(status)} "
        + (
            f'<span class="pass">{len(checks)} of {len(checks)} checks passed</span>'
            if not failed
            else f'<span class="fail">{failed} of {len(checks)} checks failed</span>'
        )
        + escape(
            f"; {met} of {len(expectations)} Great Expectations met; "
            f"{len(manifest['tables'])} tables written. "
            "Every trade and tax record of the bundled demo is synthetic."
        )
        + "</p><h3>Rows per dataset</h3><p>"
        + escape(f"{len(manifest['inputs'])} input files; ")
        + link("#inputs", "each is listed with its full sha256 and rows")
        + ".</p>"
        + table(
            ["dataset", "files", "rows received", "staged", "quarantined"],
            [[d, *totals] for d, totals in sorted(per_dataset.items())],
            numeric={1, 2, 3, 4},
        )
        + "<h3>Sanctions-list versions</h3>"
        + table(
            ["list", "snapshot", "sha256", "parser", "entries"],
            [
                [v["list"], v["snapshot"], code(v["sha256"]), code(v["parser"]), v["entries"]]
                for v in manifest["versions"]["sanctions"]
            ],
            numeric={4},
        )
        + "<h3>Control measures</h3>"
        + table(
            ["measure", "jurisdiction", "announced", "effective", "HS-6 codes", "in force"],
            [
                [
                    v["measure"],
                    v.get("jurisdiction", ""),
                    v["announced_on"] or "not known",
                    v["effective_from"],
                    v["hs6_codes"],
                    "yes" if str(v["effective_from"]) <= published else "not yet",
                ]
                for v in measures
            ],
            numeric={4},
        )
    )


def _inputs(manifest: dict[str, Any]) -> str:
    return '<h2 id="inputs">Input files</h2>' + table(
        ["dataset", "file", "sha256", "rows", "staged", "quarantined"],
        [
            [
                i["dataset"],
                code(i["file"]),
                code(i["sha256"]),
                i["rows"],
                i.get("staged", ""),
                i.get("quarantined", ""),
            ]
            for i in manifest["inputs"]
        ],
        numeric={3, 4, 5},
    )


def _figure(svg: str, headers: list[str], rows: list[list[Any]], numeric: set[int]) -> str:
    """A chart and, under it, its data as a table."""
    return (
        f"<figure>{svg}<details><summary>The chart's data</summary>"
        f"{table(headers, rows, numeric)}</details></figure>"
    )


def _dated(value: str) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _charts(manifest: dict[str, Any]) -> str:
    figures = manifest.get("figures") or {}
    parts = ['<h2 id="charts">Charts</h2>']
    by_month = figures.get("rows_by_month") or []
    if by_month:
        months = [r["month"] for r in by_month]
        svg = charts.bar_chart(
            "Customs declarations per month: staged and quarantined",
            f"Rows of {len(months)} monthly files, {months[0]} to {months[-1]}: "
            f"{sum(r['staged'] for r in by_month)} staged, "
            f"{sum(r['quarantined'] for r in by_month)} quarantined. "
            "Each panel has its own scale.",
            months,
            [
                charts.Series("staged rows", [r["staged"] for r in by_month]),
                charts.Series("quarantined rows", [r["quarantined"] for r in by_month]),
            ],
            x_label="delivery month",
            y_label="rows",
            panels=True,
        )
        rows = [[r["month"], r["staged"], r["quarantined"]] for r in by_month]
        parts.append(_figure(svg, ["month", "staged", "quarantined"], rows, {1, 2}))
    dual_use = figures.get("dual_use_by_month") or []
    if dual_use:
        measures = manifest["versions"]["control_lists"]
        markers = [
            (day, m["measure"])
            for m in measures
            if (day := _dated(m["effective_from"])) is not None
        ]
        peak = max(dual_use, key=lambda r: r["value_usd"])
        svg = charts.monthly_line(
            "Controlled goods imported by Russia, USD per month",
            f"{len(dual_use)} months, {dual_use[0]['month']} to {dual_use[-1]['month']}, "
            f"highest {peak['value_usd']:,.2f} USD in {peak['month']}. Dashed lines mark the "
            "dates control measures took effect: "
            + ", ".join(f"{label} {day.isoformat()}" for day, label in markers)
            + ". A code under several measures counts once.",
            [r["month"] for r in dual_use],
            [r["value_usd"] for r in dual_use],
            markers,
            y_label="USD (statistical value)",
        )
        rows = [[r["month"], f"{r['value_usd']:,.2f}"] for r in dual_use]
        parts.append(_figure(svg, ["month", "value USD"], rows, {1}))
    changes = figures.get("sanctions_changes") or []
    if changes:
        labels = [f"{c['list']} {c['snapshot']}" for c in changes]
        svg = charts.bar_chart(
            "Sanctions-list changes per snapshot",
            "Entries added, removed and changed since each list's previous snapshot: "
            + "; ".join(
                f"{label}: {c['added']} added, {c['removed']} removed, {c['changed']} changed"
                for label, c in zip(labels, changes, strict=True)
            )
            + ".",
            labels,
            [
                charts.Series(kind, [c[kind] for c in changes])
                for kind in ("added", "removed", "changed")
            ],
            x_label="list and snapshot",
            y_label="entries",
        )
        rows = [
            [c["list"], c["snapshot"], c["entries"], c["added"], c["removed"], c["changed"]]
            for c in changes
        ]
        headers = ["list", "snapshot", "entries", "added", "removed", "changed"]
        parts.append(_figure(svg, headers, rows, {2, 3, 4, 5}))
    reasons = manifest.get("quarantine") or []
    if reasons:
        datasets = sorted({r["dataset"] for r in reasons})
        one = len(datasets) == 1
        labels = [r["reason"] if one else f"{r['dataset']}: {r['reason']}" for r in reasons]
        svg = charts.horizontal_bars(
            f"Quarantined rows of {datasets[0]} by reason" if one else "Quarantined rows by reason",
            f"{len(reasons)} kinds of reason; "
            + "; ".join(f"{label}: {r['rows']}" for label, r in zip(labels, reasons, strict=True)),
            labels,
            [r["rows"] for r in reasons],
            x_label="rows quarantined",
        )
        rows = [[r["dataset"], r["reason"], r["rows"]] for r in reasons]
        parts.append(_figure(svg, ["dataset", "reason", "rows"], rows, {2}))
    return "".join(parts) if len(parts) > 1 else ""


def _quarantine(manifest: dict[str, Any]) -> str:
    reasons = manifest.get("quarantine") or []
    if not reasons:
        return '<h2 id="quarantine">Why rows were quarantined</h2><p>No row was quarantined.</p>'
    rows = [
        [
            r["dataset"],
            r["reason"],
            r["rows"],
            Html(
                "<br>".join(
                    f"{code(e['file'])} row {text(e['row'])}"
                    + (f", {text(r['key'])} {code(e['key'])}" if e["key"] else "")
                    + f": {text(e['reason'])}"
                    for e in r["examples"]
                )
            ),
        ]
        for r in reasons
    ]
    return (
        '<h2 id="quarantine">Why rows were quarantined</h2>'
        "<p>Each row breaks at least one rule of its dataset's contract; a row with two "
        "problems is counted under both. The first "
        f"{max(len(r['examples']) for r in reasons)} rows of each kind are shown.</p>"
        + table(["dataset", "reason", "rows", "examples (file, row, key)"], rows, numeric={2})
    )


def _detail(manifest: dict[str, Any], root: str) -> str:
    code_version = manifest["code"]
    checks = manifest["checks"]
    expectations = manifest["expectations"]
    return (
        "<h2>Code</h2>"
        + table(
            ["git commit", "uncommitted changes", "uv.lock sha256"],
            [
                [
                    code(code_version["git_commit"]),
                    code_version["git_dirty"],
                    code(code_version["uv_lock_sha256"]),
                ]
            ],
        )
        + "<h2>How to reproduce this run</h2><pre>"
        + escape(
            f"git checkout {code_version['git_commit']}\n"
            "# put the input files listed above (same sha256) in the landing area, then:\n"
            "make demo    # or materialize the build_everything job over the same months\n"
            "# every table's checksum below must come out the same"
        )
        + "</pre><h2>Checks</h2>"
        + table(
            ["asset", "check", "result", "detail"],
            [[code(c["asset"]), c["check"], _outcome(c), c["description"]] for c in checks],
        )
        + "<h2>Great Expectations on the marts</h2><p>"
        + escape(f"{sum(e['success'] for e in expectations)} of {len(expectations)} met. ")
        + link(root + DATA_DOCS, "Data Docs")
        + " (of the latest run's validation). "
        + escape(
            "A monthly run validates its months of each month-partitioned mart (months below), "
            "and a run does not validate again a mart it did not rebuild (not listed below); "
            "audit.mart_validations names the run that validated the rest."
        )
        + "</p>"
        + table(
            ["dataset", "months", "expectation", "column", "result", "unexpected"],
            [
                [
                    e["dataset"],
                    e.get("validated_months", "all"),
                    e["expectation"],
                    code(e["column"]),
                    _met(e["success"]),
                    e["unexpected"],
                ]
                for e in expectations
            ],
            numeric={5},
        )
        + "<h2>Outputs</h2>"
        + table(
            ["table", "rows", "content checksum"],
            [[code(t), v["rows"], code(v["checksum"])] for t, v in manifest["tables"].items()],
            numeric={1},
        )
    )


def render(manifest: dict[str, Any], root: str = "") -> str:
    """HTML for one run's manifest; `root` leads from the page to the reports folder."""
    run_id = str(manifest["run_id"])
    links = " · ".join(
        [
            link("manifest.json", "manifest (JSON)"),
            link(f"{root}runs/{run_id}/report.html", "this run's copy"),
            link(root + DATA_DOCS, "Data Docs"),
        ]
    )
    head = (
        f"<h1>Chokepoint run report</h1><p class=muted>run {code(run_id)} · "
        f"published {text(manifest['published_at'])} · {links}</p>"
    )
    body = head + _summary(manifest) + _charts(manifest) + _quarantine(manifest) + _inputs(manifest)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>Chokepoint run {escape(run_id[:8])}</title><style>{_STYLE}</style>"
        "</head><body>" + body + _detail(manifest, root) + "</body></html>"
    )
