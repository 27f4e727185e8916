"""Escaped HTML pieces for the auditor's report: text, code, tables and links.

Every value is escaped, and text a spreadsheet would run as a formula is neutralized
(`assets.common.safe_output`), since auditors paste these tables into spreadsheets. Table cells
take plain values; markup is built only by the helpers here, as `Html`.
"""

from html import escape
from typing import Any

from assets.common.safe_output import neutralize


class Html(str):
    """Markup made by this module from escaped, neutralized values; a table cell takes it as is."""


def text(value: Any) -> str:
    """A value as HTML text: escaped, and neutralized unless it is a number."""
    if isinstance(value, int | float):
        return escape(str(value))
    return escape(neutralize(str(value)))


def cell(value: Any) -> str:
    """A table cell's content: markup as is, anything else as text."""
    return value if isinstance(value, Html) else text(value)


def table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> Html:
    """A table; columns in `numeric` are right-aligned."""
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell(v)}</td>' if i in numeric else f"<td>{cell(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def code(value: Any) -> Html:
    """A value in monospace."""
    return Html(f"<code>{text(value)}</code>")


def link(href: str, label: str) -> Html:
    """A relative link within the reports folder."""
    return Html(f'<a href="{escape(href, quote=True)}">{escape(label)}</a>')


def status_badge(status: str) -> Html:
    """pass / warn / fail, coloured."""
    css = {"pass": "pass", "warn": "warn"}.get(status, "fail")
    return Html(f'<span class="badge {css}">{escape(status.upper())}</span>')
