"""Rules that judge a row against more than its own file: other months, other tables, the load.

A contract's column rules (`assets.common.contract_sql`) see one delivery at a time. Some defects
only show against the rest of the warehouse: a declaration id already loaded from another month,
a date outside the month its file delivers, an HS code that does not exist in the nomenclature in
force, an analyst's decision naming a list entry that no snapshot holds. The contract names these
under `datasetRules`; each compiles to one query giving (source_file, source_row_number, reason)
for the rows that break it, and the reasons join the row's own in quarantine.

Rule kinds (each an item of `datasetRules` with `rule:` and its settings):

- `unique_across_files` (`columns`): a key already staged from another file, or present in an
  earlier month of the same run, is quarantined naming both files and rows.
- `date_in_file_month` (`column`, `tolerance_days`): the date falls in the file's month.
- `plausible_dates` (`column`, `earliest`, `latest_days_after_load`): not before `earliest`,
  not later than the load date plus the given days.
- `code_in_nomenclature` (`column`, `digits`, `date_column`, `editions`: edition, in_force_from,
  table, key, exclude): the code's first `digits` exist in the nomenclature edition in force on
  the date (`exclude` names rows of the table that are not codes).
- `references` (`columns`, `table`, `table_columns`): the values exist together in a table.
- `party_key` (`column`): a valid Russian INN (check digits) or `NAME|CC` with a known country.
- `conflicting_keys`: rows of one file sharing the primary key but differing elsewhere are all
  quarantined (a plain repeat is left to the key rule: the first row wins).

Each reason reads `<column>: <sentence> (<detail>)`, as the column rules' do
(`assets.common.rule_sentences`): the sentence says what kind of problem it is, the detail which
value or row. Values and settings are bound as parameters; only identifiers from the contract
enter the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import duckdb
import polars as pl
from stdnum.ru import inn as ru_inn

from assets.common import sql
from assets.common.contract_sql import received_text
from assets.common.contracts import Column, Contract, reference_set
from assets.common.warehouse import table_exists

REASONS_TABLE = "_dataset_reasons"


class Run(NamedTuple):
    """What every rule reads: the warehouse, the contract, the run's rows and its parameters."""

    con: duckdb.DuckDBPyConnection
    contract: Contract
    rows: str  # the run's rows of raw.<dataset>, as a relation
    params: dict[str, Any]  # the rule's query parameters, filled as it is written
    months: Sequence[str] | None


PARTITION_COLUMN = "partition_month"


def _column(contract: Contract, name: str) -> Column:
    for column in contract.columns:
        if column.name == name:
            return column
    raise ValueError(f"{contract.id}: datasetRules name unknown column {name!r}")


def _date(contract: Contract, name: str, params: dict[str, Any]) -> str:
    """The typed date of a column's received text."""
    column = _column(contract, name)
    text, text_params = received_text(column)
    params.update(text_params)
    params[f"{name}__fmt"] = column.date_format or "%Y-%m-%d"
    return f"try_strptime({text}, ${name}__fmt)::date"


def _unique_across_files(run: Run, rule: dict[str, Any]) -> str | None:
    con, contract, run_rows, params, months = (
        run.con,
        run.contract,
        run.rows,
        run.params,
        run.months,
    )
    if months is None:
        return None  # one file: the key rule already covers it
    keys = [_column(contract, name) for name in rule["columns"]]
    texts = ", ".join(f"{received_text(k)[0]} as {sql.quote_ident(k.name)}" for k in keys)
    names = ", ".join(sql.quote_ident(k.name) for k in keys)
    on = " and ".join(f"r.{sql.quote_ident(k.name)} = e.{sql.quote_ident(k.name)}" for k in keys)
    present = " and ".join(f"{sql.quote_ident(k.name)} is not null" for k in keys)
    label = " + ".join(k.name for k in keys)
    params["unique__label"] = f"{label}: already loaded from another file ("
    received = (
        f"select source_file, source_row_number, {PARTITION_COLUMN}, {texts}, false as staged "  # noqa: S608
        f"from {run_rows}"
    )
    parts = ["select * from received"]
    staging = sql.table_ref("staging", contract.id)
    # the other months' staged rows, filtered by a scalar test that DuckDB applies in the scan
    others = f"(select * from {staging} where not list_contains($months, {PARTITION_COLUMN}))"  # noqa: S608
    if (
        table_exists(con, "staging", contract.id)
        and con.execute(f"select exists (from {others})", {"months": list(months)}).fetchall()[0][0]
    ):
        # only other months' rows with a key the run received can be its earlier occurrence:
        # probing the run's keys reads one column of staging instead of grouping all of it.
        # A run over every staged month has none, and leaves staging out altogether.
        parts.append(
            f"select source_file, source_row_number, {PARTITION_COLUMN}, {names}, true "  # noqa: S608
            f"from {others} semi join (select {names} from received) using ({names})"
        )
    return f"""
        with received as ({received}),
        everywhere as ({" union all ".join(parts)}),
        -- keys seen more than once: counting is cheap, and nearly every key is seen once, so
        -- the files of only these few are compared (grouping every key by its files held two
        -- strings per key, 3x the time at 10M rows)
        repeated as (
            select {names} from everywhere where {present} group by all having count(*) > 1
        ),
        shared as (
            select {names} from everywhere semi join repeated using ({names})
            -- in more than one file (source_file is never null; cheaper than count(distinct))
            group by all having min(source_file) <> max(source_file)
        ),
        candidates as (
            select e.* from everywhere as e semi join shared as r on {on}
        ),
        earlier as (
            select r.source_file, r.source_row_number,
                arg_min(e.source_file, [e.{PARTITION_COLUMN}, e.source_row_number::varchar])
                    as other_file,
                arg_min(e.source_row_number, [e.{PARTITION_COLUMN}, e.source_row_number::varchar])
                    as other_row
            from candidates as r join candidates as e on {on}
                and r.source_file <> e.source_file
                and (e.staged or e.{PARTITION_COLUMN} < r.{PARTITION_COLUMN})
            where not r.staged
            group by all
        )
        select source_file, source_row_number,
            concat($unique__label, other_file, ' row ', other_row,
                '; this row: ', source_file, ' row ', source_row_number, ')') as reason
        from earlier
    """  # noqa: S608


def _date_in_file_month(run: Run, rule: dict[str, Any]) -> str | None:
    contract, run_rows, params, months = run.contract, run.rows, run.params, run.months
    if months is None:
        return None
    name = rule["column"]
    day = _date(contract, name, params)
    params["month__tolerance"] = int(rule.get("tolerance_days", 0))
    tolerance = params["month__tolerance"]
    margin = f" by more than {tolerance} days" if tolerance else ""
    params["month__label"] = f"{name}: outside the file's month{margin} (got "
    start = f"strptime({PARTITION_COLUMN} || '-01', '%Y-%m-%d')::date"
    return f"""
        select source_file, source_row_number,
            concat($month__label, strftime(day, '%Y-%m-%d'), ' in the file of ',
                {PARTITION_COLUMN}, ')') as reason
        from (select source_file, source_row_number, {PARTITION_COLUMN}, {day} as day,
              {start} as month_start from {run_rows})
        where day < month_start - $month__tolerance::integer
            or day >= (month_start + interval 1 month)::date + $month__tolerance::integer
    """  # noqa: S608


def _plausible_dates(run: Run, rule: dict[str, Any]) -> str:
    contract, run_rows, params = run.contract, run.rows, run.params
    name = rule["column"]
    day = _date(contract, name, params)
    params[f"{name}__earliest"] = str(rule["earliest"])
    params[f"{name}__after_load"] = int(rule.get("latest_days_after_load", 0))
    params[f"{name}__early"] = f"{name}: earlier than {rule['earliest']} is not plausible (got "
    params[f"{name}__late"] = f"{name}: later than the day the file was loaded (got "
    return f"""
        select source_file, source_row_number,
            case when day < ${name}__earliest::date
                then concat(${name}__early, strftime(day, '%Y-%m-%d'), ')')
                else concat(${name}__late, strftime(day, '%Y-%m-%d'), ')') end as reason
        from (select source_file, source_row_number, loaded_at, {day} as day from {run_rows})
        where day < ${name}__earliest::date
            or day > loaded_at::date + ${name}__after_load::integer
    """  # noqa: S608


def _code_in_nomenclature(run: Run, rule: dict[str, Any]) -> str:
    con, contract, run_rows, params = run.con, run.contract, run.rows, run.params
    name, digits = rule["column"], int(rule["digits"])
    code, code_params = received_text(_column(contract, name))
    params.update(code_params)
    day = _date(contract, rule["date_column"], params)
    (edition,) = rule["editions"]  # one edition loaded today; the shape allows more
    layer, table = edition["table"].split(".")
    key = sql.quote_ident(edition["key"])
    params.update(
        {
            "nom__digits": digits,
            "nom__shape": f"^[0-9]{{{digits}}}",
            "nom__from": str(edition["in_force_from"]),
            "nom__early": (
                f"{name}: no HS nomenclature in force on that date is loaded "
                f"({edition['edition']} from {edition['in_force_from']}; got "
            ),
            "nom__missing": f"{name}: HS code does not exist in {edition['edition']} (got ",
        }
    )
    # rows the nomenclature file holds that are not codes (UN Comtrade's 99/9999/999999
    # "commodities not specified" placeholders): named by a column and its values
    excluded = edition.get("exclude") or {"column": edition["key"], "values": []}
    params["nom__excluded"] = [str(v) for v in excluded["values"]]
    known = (
        f"(select {key} as hs from {sql.table_ref(layer, table)} "  # noqa: S608
        f"where {sql.quote_ident(excluded['column'])} not in (select unnest($nom__excluded)))"
        if table_exists(con, layer, table)
        else "(select null::varchar as hs where false)"
    )
    return f"""
        with coded as (
            select source_file, source_row_number, {code} as code, {day} as day from {run_rows}
        )
        select source_file, source_row_number,
            case when day < $nom__from::date
                then concat($nom__early, strftime(day, '%Y-%m-%d'), ')')
                else concat($nom__missing, code, ')') end as reason
        from coded
        where regexp_matches(code, $nom__shape) and day is not null
            and (day < $nom__from::date
                or left(code, $nom__digits::integer) not in (select hs from {known}))
    """  # noqa: S608


def _references(run: Run, rule: dict[str, Any]) -> str:
    con, contract, run_rows, params = run.con, run.contract, run.rows, run.params
    columns = [_column(contract, name) for name in rule["columns"]]
    layer, table = rule["table"].split(".")
    there = rule.get("table_columns", rule["columns"])
    texts = ", ".join(f"{received_text(c)[0]} as {sql.quote_ident(c.name)}" for c in columns)
    params.update(received_text(columns[0])[1])
    label = " + ".join(c.name for c in columns)
    params["ref__label"] = f"{label}: not found in {rule['table']} (got "
    got = " || ' / ' || ".join(sql.quote_ident(c.name) for c in columns)
    present = " and ".join(f"{sql.quote_ident(c.name)} is not null" for c in columns)
    if table_exists(con, layer, table):
        selected = ", ".join(
            f"{sql.quote_ident(t)} as {sql.quote_ident(c.name)}"
            for t, c in zip(there, columns, strict=True)
        )
        known = f"(select distinct {selected} from {sql.table_ref(layer, table)})"  # noqa: S608
        anti = (
            f"anti join {known} as _k using ({', '.join(sql.quote_ident(c.name) for c in columns)})"
        )
    else:
        anti = ""
    return f"""
        select source_file, source_row_number, concat($ref__label, {got}, ')') as reason
        from (select source_file, source_row_number, {texts} from {run_rows}) as _r
        {anti}
        where {present}
    """  # noqa: S608


def _party_key(run: Run, rule: dict[str, Any]) -> str:
    con, contract, run_rows, params = run.con, run.contract, run.rows, run.params
    column = _column(contract, rule["column"])
    text, text_params = received_text(column)
    values = [
        row[0]
        for row in con.execute(
            f"select distinct {text} from {run_rows} where {text} is not null",  # noqa: S608
            {**params, **text_params},
        ).fetchall()
    ]
    countries = set(reference_set("iso3166_alpha2"))
    verdicts = []
    for value in values:
        if value.isdigit():
            verdicts.append((value, None if ru_inn.is_valid(value) else "INN check digits fail"))
        elif "|" in value:
            name, _, country = value.rpartition("|")
            ok = bool(name.strip()) and country in countries
            verdicts.append((value, None if ok else "NAME|CC needs a name and a known country"))
        else:
            verdicts.append((value, "neither an INN nor NAME|CC"))
    con.register(
        "_party_verdicts",
        pl.DataFrame(verdicts, schema={"value": pl.String, "problem": pl.String}, orient="row")
        .filter(pl.col("problem").is_not_null())
        .to_arrow(),
    )
    con.execute(
        "create or replace temporary table _party_problems as select * from _party_verdicts"
    )
    con.unregister("_party_verdicts")
    params.update(text_params)
    params["party__label"] = f"{column.name}: "
    return f"""
        select source_file, source_row_number,
            concat($party__label, _p.problem, ' (got ', left(_r.value, 40), ')') as reason
        from (select source_file, source_row_number, {text} as value from {run_rows}) as _r
        join _party_problems as _p using (value)
    """  # noqa: S608


def _conflicting_keys(run: Run, rule: dict[str, Any]) -> str:
    contract, run_rows, params = run.contract, run.rows, run.params
    keys = [_column(contract, name) for name in contract.primary_key]
    others = [c for c in contract.columns if c.name not in contract.primary_key]
    params.update(received_text(keys[0])[1])
    key_texts = ", ".join(f"{received_text(k)[0]} as {sql.quote_ident(k.name)}" for k in keys)
    names = ", ".join(sql.quote_ident(k.name) for k in keys)
    present = " and ".join(f"{sql.quote_ident(k.name)} is not null" for k in keys)
    row_value = "[" + ", ".join(received_text(c)[0] for c in others) + "]::varchar[]"
    params["conflict__label"] = (
        f"{' + '.join(contract.primary_key)}: conflicting rows for one key, none is used (rows "
    )
    return f"""
        with keyed as (
            select source_file, source_row_number, {key_texts}, {row_value} as content
            from {run_rows}
        ),
        conflicted as (
            select source_file, {names},
                list(source_row_number order by source_row_number) as row_numbers
            from keyed where {present}
            group by all having count(distinct content) > 1
        )
        select k.source_file, k.source_row_number,
            concat($conflict__label, array_to_string(c.row_numbers, ', '), ')') as reason
        from keyed as k join conflicted as c using (source_file, {names})
    """  # noqa: S608


_KINDS = {
    "unique_across_files": _unique_across_files,
    "date_in_file_month": _date_in_file_month,
    "plausible_dates": _plausible_dates,
    "code_in_nomenclature": _code_in_nomenclature,
    "references": _references,
    "party_key": _party_key,
    "conflicting_keys": _conflicting_keys,
}


def rules_of(contract: Contract) -> list[dict[str, Any]]:
    """The contract's dataset rules, each checked to be of a known kind."""
    rules: list[dict[str, Any]] = contract.custom.get("datasetRules") or []
    for rule in rules:
        if rule.get("rule") not in _KINDS:
            raise ValueError(f"{contract.id}: unknown dataset rule {rule.get('rule')!r}")
    return rules


def tables_read(contract: Contract) -> list[tuple[str, str]]:
    """The warehouse tables the contract's dataset rules read (for asset dependencies)."""
    found = []
    for rule in rules_of(contract):
        if rule["rule"] == "references":
            found.append(tuple(rule["table"].split(".")))
        if rule["rule"] == "code_in_nomenclature":
            found += [tuple(e["table"].split(".")) for e in rule["editions"]]
    return [(layer, table) for layer, table in found]


def materialise_reasons(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    run_rows: str,
    run_params: dict[str, Any],
    months: Sequence[str] | None,
) -> str | None:
    """Write `_dataset_reasons` for the run's rows; its name, or None when there are no rules."""
    rules = rules_of(contract)
    if not rules:
        return None
    con.execute(
        f"create or replace temporary table {REASONS_TABLE} "
        "(source_file varchar, source_row_number bigint, reason varchar)"
    )
    for rule in rules:
        params: dict[str, Any] = {**run_params, **received_text(contract.columns[0])[1]}
        if months is not None:
            params["months"] = list(months)
        query = _KINDS[rule["rule"]](Run(con, contract, run_rows, params, months), rule)
        if query is None:
            continue
        used = {name: value for name, value in params.items() if f"${name}" in query}
        con.execute(f"insert into {REASONS_TABLE} {query}", used)
    return REASONS_TABLE
