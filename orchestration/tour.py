"""The README's tour of the marts: run each query and check (or rewrite) the output shown under it.

In the section "A tour of the marts", every ```sql block holds one statement and is followed by a
```text block with that statement's full result, as this module renders it. `check` reports
each block whose shown output differs from what the warehouse returns; `--write` rewrites them.

    python -m orchestration.tour [--write] [WAREHOUSE]   # default: data/warehouse/...
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
SECTION = "## A tour of the marts"
_BLOCK = re.compile(r"```sql\n(?P<sql>.*?)```\n(?:\n```text\n(?P<shown>.*?)```\n)?", re.DOTALL)


@dataclass(frozen=True)
class Example:
    """One query of the tour and the output the README shows for it (None when it shows none)."""

    statement: str
    shown: str | None
    start: int
    end: int


def _section_bounds(text: str) -> tuple[int, int]:
    start = text.index(SECTION)
    following = text.find("\n## ", start + len(SECTION))
    return start, len(text) if following < 0 else following


def examples(text: str) -> list[Example]:
    """The tour's queries with the output shown under each, in README order."""
    start, end = _section_bounds(text)
    found = []
    for match in _BLOCK.finditer(text, start, end):
        found.append(
            Example(
                statement=match.group("sql").strip().rstrip(";"),
                shown=match.group("shown"),
                start=match.start(),
                end=match.end(),
            )
        )
    return found


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return f"{value:f}".rstrip("0").rstrip(".") if "e" in text else text
    if isinstance(value, (date, datetime, Decimal)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cell(item) for item in value) + "]"
    return str(value)


def render(con: duckdb.DuckDBPyConnection, statement: str) -> str:
    """The statement's full result as aligned text: a header line, then one line per row."""
    cursor = con.execute(statement)
    header = [column[0] for column in cursor.description or []]
    rows = [[_cell(value) for value in row] for row in cursor.fetchall()]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def check(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """A message for each tour query whose shown output is missing or differs."""
    problems = []
    for example in examples(text):
        actual = render(con, example.statement)
        if example.shown != actual:
            first_line = example.statement.splitlines()[0]
            problems.append(
                f"{first_line} ...: README shows\n{example.shown}\nwarehouse returns\n{actual}"
            )
    return problems


def rewrite(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """The README with every tour query followed by its current output."""
    parts, position = [], 0
    for example in examples(text):
        parts.append(text[position : example.start])
        parts.append(
            f"```sql\n{example.statement};\n```\n\n```text\n{render(con, example.statement)}```\n"
        )
        position = example.end
    parts.append(text[position:])
    return "".join(parts)


FIGURE = REPO_ROOT / "docs" / "img" / "eu_exports_index.svg"
_PARTNERS = {"RU": "Russia", "KG": "Kyrgyzstan", "KZ": "Kazakhstan", "AM": "Armenia"}


def figure(con: duckdb.DuckDBPyConnection) -> str:
    """The README's picture: EU27 exports to each partner by month, index 2019-2021 = 100."""
    from assets.audit.charts import Series, lines

    rows = con.execute(
        "select partner, strftime(month, '%Y-%m'), index_2019_2021 "
        "from marts.partner_trade_monthly where source = 'eurostat_comext' and reporter = 'EU27' "
        "and flow = 'X' and product_code = 'TOTAL' and partner in (select unnest($partners)) "
        "order by month",
        {"partners": list(_PARTNERS)},
    ).fetchall()
    months = sorted({month for _, month, _ in rows})
    values = {(partner, month): index for partner, month, index in rows}
    series = [
        Series(name, [float(values.get((code, m)) or "nan") for m in months])
        for code, name in _PARTNERS.items()
    ]
    return (
        lines(
            "EU27 exports by partner (Eurostat), index 2019-2021 = 100",
            "Monthly EU27 exports to Russia fell to about a third of their 2019-2021 level after "
            "2022, while exports to Kyrgyzstan, Kazakhstan and Armenia rose several-fold. "
            "Source: Eurostat Comext, marts.partner_trade_monthly.",
            months,
            series,
            y_label="index (2019-2021 = 100)",
            reference=100,
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "warehouse", nargs="?", default=str(REPO_ROOT / "data/warehouse/chokepoint.duckdb")
    )
    parser.add_argument("--write", action="store_true", help="rewrite the outputs in README.md")
    args = parser.parse_args(argv)
    with duckdb.connect(args.warehouse, read_only=True) as con:
        text = README.read_text(encoding="utf-8")
        if args.write:
            README.write_text(rewrite(con, text), encoding="utf-8")
            FIGURE.parent.mkdir(parents=True, exist_ok=True)
            FIGURE.write_text(figure(con), encoding="utf-8")
            return 0
        problems = check(con, text)
        if not FIGURE.exists() or FIGURE.read_text(encoding="utf-8") != figure(con):
            problems.append(f"{FIGURE.relative_to(REPO_ROOT)} is stale")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
