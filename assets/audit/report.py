"""The auditor's report: one self-contained HTML page per run (no scripts, fonts or CDN assets).

Every value from the manifest is escaped, and text a spreadsheet would run as a formula is
neutralized (`assets.common.safe_output`), since auditors paste these tables into spreadsheets.
Table cells take plain values; markup is built only by the helpers here, as `_Html`.
"""

from html import escape
from typing import Any

from assets.common.safe_output import neutralize

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;
color:#1d232b;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #d6dbe1;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;
padding:.25rem .5rem;border-bottom:1px solid #eceff2;vertical-align:top}
th{background:#f4f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f4f6f8;padding:.7rem;overflow-x:auto}
.pass{color:#17663a;font-weight:600}.fail{color:#b3261e;font-weight:600}
.warn{color:#8a5a00;font-weight:600}.muted{color:#5b6672}
"""


class _Html(str):
    """Markup made by this module from escaped, neutralized values; a table cell takes it as is."""


def _text(value: Any) -> str:
    """A value as HTML text: escaped, and neutralized unless it is a number."""
    if isinstance(value, int | float):
        return escape(str(value))
    return escape(neutralize(str(value)))


def _cell(value: Any) -> str:
    return value if isinstance(value, _Html) else _text(value)


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_cell(v)}</td>' if i in numeric else f"<td>{_cell(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(value: Any) -> _Html:
    return _Html(f"<code>{_text(value)}</code>")


def _outcome(check: dict[str, Any]) -> _Html:
    if check["passed"]:
        return _Html('<span class="pass">passed</span>')
    css = "warn" if check["severity"] == "WARN" else "fail"
    return _Html(f'<span class="{css}">failed ({_text(check["severity"])})</span>')


def _met(success: bool) -> _Html:
    return _Html(
        '<span class="pass">met</span>' if success else '<span class="fail">not met</span>'
    )


def render(manifest: dict[str, Any]) -> str:
    """HTML for one run's manifest."""
    code = manifest["code"]
    checks = manifest["checks"]
    failed = [c for c in checks if not c["passed"]]
    inputs = manifest["inputs"]
    sections = [
        f"<h1>Chokepoint run report</h1><p class=muted>run {_code(manifest['run_id'])} · "
        f"published {_text(manifest['published_at'])}</p>",
        "<p>"
        + (
            f'<span class="pass">All {len(checks)} checks passed.</span>'
            if not failed
            else f'<span class="fail">{len(failed)} of {len(checks)} checks failed.</span>'
        )
        + f" {len(inputs)} input files, {len(manifest['tables'])} tables. Every trade and tax "
        "record of the bundled demo is synthetic.</p>",
        "<h2>Code</h2>"
        + _table(
            ["git commit", "uncommitted changes", "uv.lock sha256"],
            [
                [
                    _code(code["git_commit"]),
                    code["git_dirty"],
                    _code(code["uv_lock_sha256"]),
                ]
            ],
        ),
        "<h2>How to reproduce this run</h2><pre>"
        + escape(
            f"git checkout {code['git_commit']}\n"
            "# put the input files listed below (same sha256) in the landing area, then:\n"
            "make demo    # or materialize the build_everything job over the same months\n"
            "# every table's checksum below must come out the same"
        )
        + "</pre>",
        "<h2>Inputs</h2>"
        + _table(
            ["dataset", "file", "sha256", "rows", "staged", "quarantined"],
            [
                [
                    i["dataset"],
                    _code(i["file"]),
                    _code(i["sha256"][:16] + "…"),
                    i["rows"],
                    i.get("staged", ""),
                    i.get("quarantined", ""),
                ]
                for i in inputs
            ],
            numeric={3, 4, 5},
        ),
        "<h2>Sanctions-list versions</h2>"
        + _table(
            ["list", "snapshot", "sha256", "parser", "entries"],
            [
                [
                    v["list"],
                    v["snapshot"],
                    _code(v["sha256"][:16] + "…"),
                    _code(v["parser"]),
                    v["entries"],
                ]
                for v in manifest["versions"]["sanctions"]
            ],
            numeric={4},
        ),
        "<h2>Control-list versions</h2>"
        + _table(
            ["measure", "announced", "effective", "HS-6 codes"],
            [
                [
                    v["measure"],
                    v["announced_on"] or "not known",
                    v["effective_from"],
                    v["hs6_codes"],
                ]
                for v in manifest["versions"]["control_lists"]
            ],
            numeric={3},
        ),
        "<h2>Checks</h2>"
        + _table(
            ["asset", "check", "result", "detail"],
            [[_code(c["asset"]), c["check"], _outcome(c), c["description"]] for c in checks],
        ),
        "<h2>Great Expectations on the marts</h2><p>"
        + escape(
            f"{sum(e['success'] for e in manifest['expectations'])} of "
            f"{len(manifest['expectations'])} expectations met. "
        )
        + '<a href="data_docs/index.html">Data Docs</a> (works offline).</p>'
        + _table(
            ["dataset", "expectation", "column", "result", "unexpected"],
            [
                [
                    e["dataset"],
                    e["expectation"],
                    _code(e["column"]),
                    _met(e["success"]),
                    e["unexpected"],
                ]
                for e in manifest["expectations"]
            ],
            numeric={4},
        ),
        "<h2>Outputs</h2>"
        + _table(
            ["table", "rows", "content checksum"],
            [[_code(t), v["rows"], _code(v["checksum"])] for t, v in manifest["tables"].items()],
            numeric={1},
        ),
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>Chokepoint run {escape(manifest['run_id'][:8])}</title><style>{_STYLE}</style>"
        "</head><body>" + "".join(sections) + "</body></html>"
    )
