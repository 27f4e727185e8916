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

from assets.common.contracts import (
    CONTROL_CHARACTERS,
    PRINTABLE_TEXT,
    Column,
    Contract,
    key_sentence,
)
from assets.common.rule_sentences import sentence
from assets.common.sql import quote_ident

# What polars' `str.strip_chars()` removes: Unicode White_Space.
_WHITESPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)

ROW_ORDER_COLUMN = "source_row_number"

# Each row is screened by one expression over all its values joined by "|" before any value is
# trimmed or checked for control characters one by one (a function call per value, `right()`
# and the regular expression the slowest: most of the cost of checking a large delivery). A row
# in which no value holds a control character, and none starts or ends with white space, is
# "plain": its values are their own trimmed text and break no `control` rule. Every other row
# (a "|" next to white space inside a value too) takes the exact path, value by value: the
# screen changes how fast a row is checked, never the verdict.
_CONTROL_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in CONTROL_CHARACTERS)
_WHITESPACE_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE)
SCREEN = f"[{_CONTROL_CLASS}]|(^|\\|)[{_WHITESPACE_CLASS}]|[{_WHITESPACE_CLASS}](\\||$)"

# The text of a number as polars reads one; DuckDB's cast also takes digit separators (`1_000`)
# and a doubled sign (`+-1`), which the contract's reference refuses.
NUMBER_SHAPE = r"^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))$"


@dataclass
class _Query:
    """A query under construction: its parameters are collected as the expressions are written."""

    params: dict[str, Any] = field(default_factory=lambda: {"ws": _WHITESPACE})

    def bind(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f"${name}"


def received_text(column: Column) -> tuple[str, dict[str, Any]]:
    """SQL for the column's received text as the contract reads it (trimmed, empty = missing).

    For queries outside `checked_rows_query` that must see values exactly as the checks do.
    """
    return _text(column), {"ws": _WHITESPACE}


def _text(column: Column) -> str:
    """The received text, trimmed, with an empty value read as missing.

    Trimming by a set of characters is slow in DuckDB, so it runs only for values that do not
    both start and end with a printable ASCII character (nearly all values do).
    """
    name = quote_ident(column.name)
    clean = f"ascii({name}) between 33 and 126 and ascii(right({name}, 1)) between 33 and 126"
    return f"nullif(case when {clean} then {name} else trim({name}, $ws) end, '')"


def _typed(column: Column, query: _Query, relation: str = "_t") -> str:
    """The typed value of the column's (trimmed) text in `relation`; null if it cannot be read."""
    text = f"{relation}.{quote_ident(column.name)}"
    kind = column.logical_type
    if kind == "string":
        return text
    if kind == "date":
        fmt = query.bind(f"{column.name}__format", column.date_format or "%Y-%m-%d")
        return f"try_strptime({text}, {fmt})::date"
    if kind == "number":  # only what polars reads as a number: no `1_000`, no `+-1`
        shape = query.bind("_number_shape", NUMBER_SHAPE)
        return f"case when regexp_matches({text}, {shape}) then try_cast({text} as double) end"
    if kind == "integer":  # polars reads "1.0" as no integer; DuckDB would round it
        whole = f"regexp_full_match({text}, '[+-]?[0-9]+')"
        return f"case when {whole} then try_cast({text} as bigint) end"
    if kind == "boolean":
        return (
            f"case when lower({text}) in ('true', '1', 'yes') then true "
            f"when lower({text}) in ('false', '0', 'no') then false end"
        )
    raise ValueError(f"{column.name}: no SQL typing for logical type {kind!r}")


@dataclass(frozen=True)
class _Rule:
    """A broken rule: when `broken` is true for a row, `reason` says what is wrong with it."""

    broken: str
    reason: str


def _rules(column: Column, query: _Query) -> list[_Rule]:
    """The column's rules as SQL over `typed` (typed value, received text in `_t_<name>`)."""
    name = column.name
    value, text = f"_v.{quote_ident(name)}", f"_v.{quote_ident('_t_' + name)}"
    rules: list[_Rule] = []

    # a number is quoted as received (trimmed): DuckDB and polars write a double differently
    as_text = text if column.logical_type == "number" else f"{value}::varchar"

    def rule(suffix: str, broken: str, kind: str, *, got: bool = True) -> None:
        said = query.bind(f"{name}__{suffix}_reason", f"{name}: {sentence(column, kind)}")
        shown = f"concat({said}, ' (got ', left({as_text}, 40), ')')" if got else said
        rules.append(_Rule(broken, shown))

    cast_failed = "false"
    if column.logical_type != "string":
        cast_failed = f"({text} is not null and {value} is null)"
        said = query.bind(f"{name}__cast_reason", f"{name}: {sentence(column, 'type')} (got ")
        rules.append(_Rule(cast_failed, f"concat({said}, left({text}, 40), ')')"))
    if column.logical_type == "string":  # a plain row has no control character (see SCREEN)
        printable = query.bind("_printable", PRINTABLE_TEXT)
        rule("control", f"not _v._plain and not regexp_matches({value}, {printable})", "control")
    if column.required:
        # a NaN ("nan", "NAN") is no amount: empty, as the reference (pandera) counts it too
        missing = (
            f"({value} is null or isnan({value}))"
            if column.logical_type == "number"
            else (f"{value} is null")
        )
        broken = f"{missing} and not {cast_failed}"
        rule("required", broken, "required", got=False)
    if column.logical_type == "number":
        # Infinity is no amount, nor is NaN (reported as empty when the column is required)
        nonfinite = f"isinf({value})" if column.required else f"not isfinite({value})"
        rule("finite", nonfinite, "finite")
    if column.pattern is not None:
        pattern = column.pattern if column.pattern.startswith("^") else f"^{column.pattern}"
        bound = query.bind(f"{name}__pattern", pattern)
        rule("pattern", f"not regexp_matches({value}, {bound})", "pattern")
    if column.minimum is not None:
        bound = query.bind(f"{name}__minimum", column.minimum)
        rule("minimum", f"{value} < {bound}", "minimum")
    if column.maximum is not None:
        bound = query.bind(f"{name}__maximum", column.maximum)
        rule("maximum", f"{value} > {bound}", "maximum")
    if column.allowed_values() is not None:
        rule("allowed", f"not _v.{quote_ident('_in_' + name)}", "allowed")
    return rules


def _membership(column: Column, query: _Query) -> str | None:
    """`_in_<name>`: whether the typed value is one of the column's valid values (a hash join)."""
    allowed = column.allowed_values()
    if allowed is None:
        return None
    members = query.bind(f"{column.name}__allowed", allowed)
    name = quote_ident(column.name)
    # the valid values are typed as the column's values are: `2` is the number 2.0, not text
    typed = _typed(column, query, "_m")
    return (
        f"{name} in (select {typed} from (select unnest({members}) as {name}) as _m) "  # noqa: S608
        f"as {quote_ident('_in_' + column.name)}"
    )


def _key_sets(contract: Contract) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = [(c.name,) for c in contract.columns if c.unique]
    if len(contract.primary_key) > 1:
        keys.append(contract.primary_key)
    return keys


def _repeated_keys(
    contract: Contract, keys: tuple[str, ...], source: str, scope: list[str], query: _Query
) -> str:
    """The keys repeated within a scope, with the row number of their first occurrence."""
    by_name = {c.name: c for c in contract.columns}
    carried = ", ".join(quote_ident(k) for k in [*scope, ROW_ORDER_COLUMN])
    texts = ", ".join(f"{_text(by_name[k])} as {quote_ident(k)}" for k in keys)
    typed = ", ".join(f"{_typed(by_name[k], query, '_s')} as {quote_ident(k)}" for k in keys)
    grouped = ", ".join(quote_ident(k) for k in [*scope, *keys])
    present = " and ".join(f"{quote_ident(k)} is not null" for k in keys)
    return (
        f"select {grouped}, min({ROW_ORDER_COLUMN}) as _first "  # noqa: S608
        f"from (select {carried}, {typed} from (select {carried}, {texts} from {source}) as _s) "
        f"where {present} group by {grouped} having count(*) > 1"
    )


def repeated_keys_queries(
    contract: Contract,
    source: str,
    *,
    key_scope: list[str] | None = None,
    params: dict[str, Any] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """One query per unique key of the contract: its repeated values (see `checked_rows_query`).

    Materialise them (they are small) and pass the tables to `checked_rows_query`, so that a
    large source is not grouped again inside every statement that checks it.
    """
    found = []
    for keys in _key_sets(contract):
        query = _Query(params={**(params or {}), "ws": _WHITESPACE})
        statement = _repeated_keys(contract, keys, source, list(key_scope or []), query)
        found.append((statement, query.params))
    return found


def checked_rows_query(
    contract: Contract,
    source: str,
    keep: list[str],
    *,
    key_scope: list[str] | None = None,
    params: dict[str, Any] | None = None,
    repeated: list[str],
    extra_reasons: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """A query over the relation `source` (as received): `keep` columns, typed columns, `reasons`.

    `source` must hold the contract's columns as text and `source_row_number`; `reasons` is the
    sorted list of everything wrong with the row, null when the row is valid (it is built only
    for the rows that break a rule). A key repeated within one `key_scope` (e.g. one monthly
    file) quarantines every occurrence after the first, naming the first's row number.
    `params` are the parameters `source` itself uses. `repeated` names the tables made from
    `repeated_keys_queries` over the same rows, one per key. `extra_reasons` names a table of
    (source_file, source_row_number, reason) from rules beyond one file's rows (see
    `assets.common.dataset_rules`); its reasons join the row's own.
    """
    query = _Query()
    query.params.update(params or {})
    scope = list(key_scope or [])
    carried = list(dict.fromkeys([*keep, ROW_ORDER_COLUMN, *scope]))
    carry = ", ".join(quote_ident(c) for c in carried)
    texts = ", ".join(
        f"case when _plain then nullif({quote_ident(c.name)}, '') else {_text(c)} end "
        f"as {quote_ident(c.name)}"
        for c in contract.columns
    )
    joined = ", ".join(quote_ident(c.name) for c in contract.columns)
    screen = query.bind("_screen", SCREEN)
    typed = ", ".join(f"{_typed(c, query)} as {quote_ident(c.name)}" for c in contract.columns)
    raw_texts = ", ".join(
        f"_t.{quote_ident(c.name)} as {quote_ident('_t_' + c.name)}"
        for c in contract.columns
        if c.logical_type != "string"
    )
    memberships = [m for c in contract.columns if (m := _membership(c, query)) is not None]
    ctes = [
        f"screened as (select *, not coalesce(regexp_matches(concat_ws('|', {joined}), "  # noqa: S608
        f"{screen}), false) as _plain from {source})",
        f"received as (select {carry}, _plain, {texts} from screened)",  # noqa: S608
        "typed as (select "  # noqa: S608
        + ", ".join(f"_t.{quote_ident(c)}" for c in [*carried, "_plain"])
        + f", {typed}"
        + (f", {raw_texts}" if raw_texts else "")
        + " from received as _t)",
        "judged as (select *"  # noqa: S608
        + "".join(f", {m}" for m in memberships)
        + " from typed)",
    ]
    rules = [rule for column in contract.columns for rule in _rules(column, query)]
    joins = []
    key_sets = _key_sets(contract)
    if len(repeated) != len(key_sets):
        raise ValueError(f"{contract.id}: {len(key_sets)} keys, {len(repeated)} tables given")
    for number, keys in enumerate(key_sets):
        alias = f"_k{number}"
        relation = f"{quote_ident(repeated[number])} as {alias}"
        on = " and ".join(
            f"_v.{quote_ident(k)} = {alias}.{quote_ident(k)}" for k in [*scope, *keys]
        )
        joins.append(f"left join {relation} on {on}")
        said = f"{' + '.join(keys)}: {key_sentence(contract, keys)} (row "
        label = query.bind(f"_key{number}__label", said)
        rules.append(
            _Rule(
                f"_v.{ROW_ORDER_COLUMN} <> {alias}._first",
                f"concat({label}, {alias}._first, ')')",
            )
        )
    if extra_reasons is not None:
        joins.append(
            "left join (select source_file, source_row_number, list(reason) as _reasons "  # noqa: S608
            f"from {quote_ident(extra_reasons)} group by all) as _x "
            "on _v.source_file = _x.source_file "
            "and _v.source_row_number = _x.source_row_number"
        )
    outputs = [f"_v.{quote_ident(c)}" for c in keep]
    outputs += [f"_v.{quote_ident(c.name)}" for c in contract.columns]
    # Most rows break nothing: the reasons list is built only for the rows that do.
    # A rule that is null counts as not broken (CASE WHEN takes null as false); no coalesce()
    # around each rule, which would stop DuckDB from skipping the rest of the OR for a row.
    broken = " or ".join(f"({r.broken})" for r in rules) or "false"
    cases = ", ".join(f"case when {r.broken} then {r.reason} end" for r in rules)
    if extra_reasons is not None:
        broken = f"{broken} or _x._reasons is not null"
        cases = f"[{cases}]::varchar[] || coalesce(_x._reasons, [])"
    else:
        cases = f"[{cases}]::varchar[]"
    reasons = f"case when {broken} then list_sort(list_distinct({cases})) end"
    statement = (
        "with "
        + ",\n".join(ctes)
        + f"\nselect {', '.join(outputs)}, {reasons} as reasons\nfrom judged as _v\n"
        + "\n".join(joins)
    )
    return statement, query.params
