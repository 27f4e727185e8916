"""What of each mart a run's Great Expectations suites read, and the ledger that says so.

A monthly run rewrites only its months of a month-partitioned mart, and a run leaves the marts
it does not select alone; those rows are the published warehouse's, which an earlier run
validated before publishing them. `audit.mart_validations` keeps, for every month of every
month-partitioned mart and for every other mart as a whole (a row without a month), the run
that last validated it, under which suite (the sha256 of the mart's contract and of the code in
`suites.py` that derives the suite from it), and the outcome.

A run that is not a re-execution (whose parent may have rebuilt marts it does not select):
- does not validate again a mart it does not rebuild, when every row of it passed its latest
  validation under the current suite;
- validates only its months of a month-partitioned mart it rebuilt for those months only
  (`rebuilt_months` is `some`), when every other month passed likewise;
- validates every other mart whole. So the first run after an upgrade that changes a suite, a
  changed contract, a list change (a run over every month) and a month the ledger does not
  know validate every month.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib.metadata import version
from typing import Any

import dagster as dg
import duckdb

from assets.common.partitions import run_month_range
from assets.common.paths import CONTRACTS_DIR
from assets.common.sql import load, month_after, month_column, quote_ident, table_ref
from assets.common.sql_assets import rebuilt_whole
from assets.common.warehouse import table_exists
from assets.marts.catalog import MART_CONTRACTS
from assets.marts.suites import Scope, describe, month_filter


@cache
def _derivation() -> bytes:
    """The code and library every suite is derived and run with (the same for a whole process:
    read once, not for every mart and month checked)."""
    from assets.common import contracts
    from assets.marts import suites

    digest = hashlib.sha256()
    derivations = (
        suites._expectations,
        suites._with_outside_columns,
        suites._outside,
        suites._pandas,
        suites.mart_query,
        suites._merged,  # a batched mart's results, the key's uniqueness over the whole scope
        suites._repeated_key_rows,
        contracts.load_contract.__wrapped__,
    )
    for derivation in derivations:
        digest.update(inspect.getsource(derivation).encode())
    digest.update(repr(sorted(suites.REFERENCE_SOURCES.items())).encode())
    digest.update(version("great_expectations").encode())  # the library that runs the suites
    return digest.digest()


def suite_sha256(mart: str, con: duckdb.DuckDBPyConnection) -> str:
    """The sha256 of what the mart's suite is derived from: its contract, the code that derives
    expectations from a contract, and the reference sets it checks against."""
    from assets.common import contracts

    digest = hashlib.sha256((CONTRACTS_DIR / f"{MART_CONTRACTS[mart].id}.yaml").read_bytes())
    digest.update(_derivation())
    for column in MART_CONTRACTS[mart].columns:
        if column.reference_set == "hs2022_hs6":  # from the warehouse, as the suites read it
            codes = con.execute(
                "select coalesce(string_agg(hscode, ',' order by hscode), '') "
                "from staging.hs_nomenclature where level = 6"
            ).fetchall()[0][0]
            digest.update(str(codes).encode())
        elif column.reference_set:
            digest.update(repr(contracts.reference_set(column.reference_set)).encode())
    return digest.hexdigest()


def _validated_elsewhere(
    con: duckdb.DuckDBPyConnection, mart: str, scope: Scope | None = None
) -> bool:
    """Whether the mart's rows outside `scope` (all, if None) passed their latest validation
    under the mart's current suite: every month it holds, or the whole of a mart that is not
    partitioned by month (its ledger row has no month)."""
    if not table_exists(con, "audit", "mart_validations"):
        return False
    column = month_column("marts", mart)
    if column is None:
        return scope is None and bool(
            con.execute(
                "select count(*) from audit.mart_validations where mart = $mart "
                "and month is null and success and suite_sha256 = $suite",
                {"mart": mart, "suite": suite_sha256(mart, con)},
            ).fetchall()[0][0]
        )
    name = quote_ident(column)
    outside = f"where {name} < $first or {name} >= $after" if scope else ""
    bounds = {"first": scope[0], "after": scope[1]} if scope else {}
    unvalidated = con.execute(
        f"select count(*) from (select distinct date_trunc('month', {name})::date as month "  # noqa: S608
        f"from {table_ref('marts', mart)} {outside}) as held "
        "where not exists (select 1 from audit.mart_validations as v where v.mart = $mart "
        "and v.month = held.month and v.success and v.suite_sha256 = $suite)",
        {**bounds, "mart": mart, "suite": suite_sha256(mart, con)},
    ).fetchall()[0][0]
    return int(unvalidated) == 0


@dataclass(frozen=True)
class Plan:
    """What a run validates: the marts it reads for some months only (`scopes`), and the marts
    it does not validate again (`unchanged`: not rebuilt by the run, every row of them passed
    an earlier validation under the current suite). Every other mart is validated whole."""

    scopes: dict[str, Scope] = field(default_factory=dict)
    unchanged: tuple[str, ...] = ()


def plan(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, marts: tuple[str, ...]
) -> Plan:
    """What this run validates of `marts` (see the module). A re-execution validates every
    mart whole: its parent may have rebuilt marts that this run does not select."""
    if context.run.parent_run_id is not None:
        return Plan()
    selected = context.run.asset_selection or context.job_def.asset_layer.selected_asset_keys
    unchanged = tuple(
        mart
        for mart in marts
        if dg.AssetKey(["marts", mart]) not in selected and _validated_elsewhere(con, mart)
    )
    window = _window(context)
    if window is None:
        return Plan(unchanged=unchanged)
    found: dict[str, Scope] = {}
    for mart in marts:
        if mart in unchanged:
            continue
        rewrote_all = rebuilt_whole(context, dg.AssetKey(["marts", mart]))
        if (scope := _scope(con, mart, window, rewrote_all)) is not None:
            found[mart] = scope
    return Plan(found, unchanged)


def scope_after_step(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    mart: str,
    rewrote_all: bool,
) -> Scope | None:
    """The months of `mart` that `plan` will give it, asked by the mart's own step once it has
    written them (`rewrote_all`: every row); None for the whole mart. The quality step checks
    the answer against its plan (an input of the ledger may still change in the run)."""
    if context.run.parent_run_id is not None:
        return None
    window = _window(context)
    return None if window is None else _scope(con, mart, window, rewrote_all)


def _window(context: dg.AssetExecutionContext) -> Scope | None:
    """The run's months as a scope, or None for a run over no month range."""
    window = run_month_range(context.run.tags)
    if window is None:
        return None
    return (
        date.fromisoformat(f"{window[0]}-01"),
        month_after(date.fromisoformat(f"{window[1]}-01")),
    )


def _scope(
    con: duckdb.DuckDBPyConnection, mart: str, window: Scope, rewrote_all: bool
) -> Scope | None:
    """`window` if the mart is validated over the run's months only, else None (all)."""
    if month_column("marts", mart) is None or rewrote_all:
        return None
    return window if _validated_elsewhere(con, mart, window) else None


def forget(con: duckdb.DuckDBPyConnection, mart: str, months: list[str] | None) -> None:
    """Take out of the ledger the months (YYYY-MM) of a mart a step just rewrote, or the whole
    mart (None): they have not been validated yet. A mart step calls it, so that rows published
    by a run that did not validate them (a selection without `audit.mart_quality`) are
    validated by the next run that has the suites."""
    if not table_exists(con, "audit", "mart_validations"):
        return
    if months is None:
        con.execute("delete from audit.mart_validations where mart = $mart", {"mart": mart})
        return
    con.execute(
        "delete from audit.mart_validations where mart = $mart "
        "and (month is null or month in (select unnest($months)))",
        {"mart": mart, "months": [date.fromisoformat(f"{month}-01") for month in months]},
    )


def record(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    results: list[dict[str, Any]],
    marts: tuple[str, ...],
    validated: dict[str, Scope],
) -> None:
    """Record in `audit.mart_validations` what this run validated of `marts`, with the outcome:
    the months of a month-partitioned mart (months it no longer holds leave the ledger), the
    whole of another mart (a row without a month)."""
    con.execute(load("audit", "mart_validations"))
    now = datetime.now().astimezone()
    for mart in marts:
        column = month_column("marts", mart)
        success = all(r["success"] for r in results if r["dataset"] == mart)
        if column is None:
            con.execute("delete from audit.mart_validations where mart = $mart", {"mart": mart})
            con.execute(
                "insert into audit.mart_validations values "
                "($mart, null, $run, $at, $suite, $success, 'all')",
                {
                    "mart": mart,
                    "run": run_id,
                    "at": now,
                    "suite": suite_sha256(mart, con),
                    "success": success,
                },
            )
            continue
        where, bounds = month_filter(mart, validated.get(mart))
        name = quote_ident(column)
        con.execute(
            "delete from audit.mart_validations as v where v.mart = $mart and not exists ("  # noqa: S608
            f"select 1 from {table_ref('marts', mart)} "
            f"where date_trunc('month', {name})::date = v.month)",
            {"mart": mart},
        )
        con.execute(
            f"delete from audit.mart_validations where mart = $mart and month in ("  # noqa: S608
            f"select distinct date_trunc('month', {name})::date "
            f"from {table_ref('marts', mart)} {where})",
            {"mart": mart, **bounds},
        )
        con.execute(
            "insert into audit.mart_validations "  # noqa: S608
            f"select distinct $mart, date_trunc('month', {name})::date, $run, $at, $suite, "
            f"$success, $validated_months from {table_ref('marts', mart)} {where}",
            {
                "mart": mart,
                "run": run_id,
                "at": now,
                "suite": suite_sha256(mart, con),
                "success": success,
                "validated_months": describe(validated.get(mart)),
                **bounds,
            },
        )
