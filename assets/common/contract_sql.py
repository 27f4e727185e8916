"""A contract's row rules compiled to one DuckDB query: typed values and each row's reasons.

The ingest validates in the warehouse, where the rows already are, so that a 10M-row delivery is
checked without moving it through Python. The rules are the contract's (`data_contracts/*.yaml`)
and nothing else: typing by logical type, `required`, `pattern`, `minimum`/`maximum`, valid values
or a reference set, and unique keys. The reason texts are the ones the pandera model of the same
contract gives (`assets.common.contracts.validate`); a test runs both over the demo deliveries and
every kind of defect and requires the same staged rows and the same reasons.

Only identifiers from the contract (checked by `quote_ident`) are written into the query text;
patterns, bounds and value sets are bound as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assets.common.contracts import Column, Contract
from assets.common.sql import quote_ident

# What polars' `str.strip_chars()` removes: Unicode White_Space.
_WHITESPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)

ROW_ORDER_COLUMN = "source_row_number"


@dataclass
class _Query:
    """A query under construction: its parameters are collected as the expressions are written."""

    params: dict[str, Any] = field(default_factory=lambda: {"ws": _WHITESPACE})

    def bind(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f"${name}"


def _text(column: Column) -> str:
    """The received text, trimmed, with an empty value read as missing."""
    return f"nullif(trim({quote_ident(column.name)}, $ws), '')"


def _typed(column: Column, query: _Query) -> str:
    text = f"_t.{quote_ident(column.name)}"
    kind = column.logical_type
    if kind == "string":
        return text
    if kind == "date":
        fmt = query.bind(f"{column.name}__format", column.date_format or "%Y-%m-%d")
        return f"try_strptime({text}, {fmt})::date"
    if kind == "number":
        return f"try_cast({text} as double)"
    if kind == "integer":  # polars reads "1.0" as no integer; DuckDB would round it
        whole = f"regexp_full_match({text}, '[+-]?[0-9]+')"
        return f"case when {whole} then try_cast({text} as bigint) end"
    if kind == "boolean":
        return (
            f"case when lower({text}) in ('true', '1', 'yes') then true "
            f"when lower({text}) in ('false', '0', 'no') then false end"
        )
    raise ValueError(f"{column.name}: no SQL typing for logical type {kind!r}")


def _reasons(column: Column, query: _Query) -> list[str]:
    """One `case` per rule of the column; each is a reason text when the rule fails, else null."""
    name = column.name
    value, text = f"_v.{quote_ident(name)}", f"_v.{quote_ident('_t_' + name)}"
    cases: list[str] = []

    def rule(suffix: str, broken: str, reason: str, *, got: bool = True) -> None:
        said = query.bind(f"{name}__{suffix}_reason", f"{name}: {reason}")
        shown = f"concat({said}, ' (got ', left({value}::varchar, 40), ')')" if got else said
        cases.append(f"case when {broken} then {shown} end")

    cast_failed = "false"
    if column.logical_type != "string":
        cast_failed = f"({text} is not null and {value} is null)"
        said = query.bind(f"{name}__cast_reason", f"{name}: cannot read ")
        kind = query.bind(f"{name}__cast_type", f" as {column.logical_type}")
        cases.append(f"case when {cast_failed} then concat({said}, left({text}, 40), {kind}) end")
    if column.required:
        rule(
            "required", f"{value} is null and not {cast_failed}", "is required but empty", got=False
        )
    if column.pattern is not None:
        pattern = column.pattern if column.pattern.startswith("^") else f"^{column.pattern}"
        bound = query.bind(f"{name}__pattern", pattern)
        rule("pattern", f"not regexp_matches({value}, {bound})", f"must match {column.pattern}")
    if column.minimum is not None:
        bound = query.bind(f"{name}__minimum", column.minimum)
        rule("minimum", f"{value} < {bound}", f"must be >= {column.minimum}")
    if column.maximum is not None:
        bound = query.bind(f"{name}__maximum", column.maximum)
        rule("maximum", f"{value} > {bound}", f"must be <= {column.maximum}")
    allowed = column.allowed_values()
    if allowed is not None:
        members = query.bind(f"{name}__allowed", allowed)
        label = column.reference_set or ", ".join(allowed)
        rule(
            "allowed", f"not list_contains({members}, {value}::varchar)", f"must be one of {label}"
        )
    return cases


def _key_sets(contract: Contract) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = [(c.name,) for c in contract.columns if c.unique]
    if len(contract.primary_key) > 1:
        keys.append(contract.primary_key)
    return keys


def checked_rows_query(
    contract: Contract,
    source: str,
    keep: list[str],
    *,
    key_scope: list[str] | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """A query over the relation `source` (as received): `keep` columns, typed columns, `reasons`.

    `source` must hold the contract's columns as text and `source_row_number`; `reasons` is the
    sorted list of everything wrong with the row (empty when the row is valid). A key repeated
    within one `key_scope` (e.g. one monthly file) quarantines every occurrence after the first,
    naming the first's row number. `params` are the parameters `source` itself uses.
    """
    query = _Query()
    query.params.update(params or {})
    scope = list(key_scope or [])
    carried = list(dict.fromkeys([*keep, ROW_ORDER_COLUMN, *scope]))
    carry = ", ".join(quote_ident(c) for c in carried)
    texts = ", ".join(f"{_text(c)} as {quote_ident(c.name)}" for c in contract.columns)
    typed = ", ".join(f"{_typed(c, query)} as {quote_ident(c.name)}" for c in contract.columns)
    raw_texts = ", ".join(
        f"_t.{quote_ident(c.name)} as {quote_ident('_t_' + c.name)}"
        for c in contract.columns
        if c.logical_type != "string"
    )
    ctes = [
        f"received as (select {carry}, {texts} from {source})",  # noqa: S608
        "typed as (select "  # noqa: S608
        + ", ".join(f"_t.{quote_ident(c)}" for c in carried)
        + f", {typed}"
        + (f", {raw_texts}" if raw_texts else "")
        + " from received as _t)",
    ]
    reasons = [case for column in contract.columns for case in _reasons(column, query)]
    joins = []
    for number, keys in enumerate(_key_sets(contract)):
        alias = f"_k{number}"
        cols = ", ".join(quote_ident(k) for k in [*scope, *keys])
        present = " and ".join(f"{quote_ident(k)} is not null" for k in keys)
        ctes.append(
            f"{alias} as (select {cols}, min({ROW_ORDER_COLUMN}) as _first from typed "  # noqa: S608
            f"where {present} group by {cols} having count(*) > 1)"
        )
        on = " and ".join(
            f"_v.{quote_ident(k)} = {alias}.{quote_ident(k)}" for k in [*scope, *keys]
        )
        joins.append(f"left join {alias} on {on}")
        label = query.bind(f"_key{number}__label", " + ".join(keys))
        reasons.append(
            f"case when _v.{ROW_ORDER_COLUMN} <> {alias}._first "
            f"then concat({label}, ': repeats the key of row ', {alias}._first) end"
        )
    outputs = [f"_v.{quote_ident(c)}" for c in keep]
    outputs += [f"_v.{quote_ident(c.name)}" for c in contract.columns]
    reasons_list = f"list_sort(list_distinct([{', '.join(reasons)}]::varchar[]))"
    statement = (
        "with "
        + ",\n".join(ctes)
        + f"\nselect {', '.join(outputs)}, {reasons_list} as reasons\nfrom typed as _v\n"
        + "\n".join(joins)
    )
    return statement, query.params
