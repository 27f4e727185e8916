"""Which months of each mart a run's Great Expectations suites read, and the ledger that says so.

A monthly run rewrites only its months of a month-partitioned mart; the other months' rows are
those of the published warehouse, which an earlier run validated before publishing them. Such a
run validates its months only, and `audit.mart_validations` keeps, for every month of every
month-partitioned mart, the run that last validated it, under which contract, and the outcome.

A mart is validated whole (every month) unless all of these hold: the run covers a range of
months and is not a re-execution; it rewrote only those months of the mart (`rebuilt_months` is
`some`); and every other month the mart holds has a passing validation in the ledger under the
mart's current suite (the sha256 of its contract and of the code in `quality.py` that derives
the suite from it). So the first run after an upgrade that changes a suite, a changed contract,
a list change (a run over every month) and a month the ledger does not know all validate every
month.
"""

from __future__ import annotations

import hashlib
import inspect
from datetime import date, datetime
from typing import Any

import dagster as dg
import duckdb

from assets.common.partitions import run_month_range
from assets.common.paths import CONTRACTS_DIR
from assets.common.sql import load, month_column, quote_ident, table_ref
from assets.common.sql_assets import rebuilt_whole
from assets.common.warehouse import table_exists
from assets.marts.catalog import MART_CONTRACTS

# (first day of the first month, first day after the last month) a mart's suite reads
Scope = tuple[date, date]


def _month_after(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year + number // 12, number % 12 + 1, 1)


def suite_sha256(mart: str) -> str:
    """The sha256 of what the mart's suite is derived from: its contract and the code that
    derives expectations from a contract."""
    from assets.marts import quality  # it imports this module

    digest = hashlib.sha256((CONTRACTS_DIR / f"{MART_CONTRACTS[mart].id}.yaml").read_bytes())
    for derivation in (quality._expectations, quality._with_outside_columns, quality._outside):
        digest.update(inspect.getsource(derivation).encode())
    digest.update(repr(sorted(quality.REFERENCE_SOURCES.items())).encode())
    return digest.hexdigest()


def month_filter(mart: str, scope: Scope | None) -> tuple[str, dict[str, Any]]:
    """The `where` clause (and its values) selecting a scope's rows of a mart; all if None."""
    if scope is None:
        return "", {}
    column = month_column("marts", mart)
    if column is None:
        raise ValueError(f"marts.{mart} is not partitioned by month")
    name = quote_ident(column)
    return f"where {name} >= $first and {name} < $after", {"first": scope[0], "after": scope[1]}


def _validated_elsewhere(
    con: duckdb.DuckDBPyConnection, mart: str, column: str, scope: Scope
) -> bool:
    """Whether every month of the mart outside `scope` passed its latest validation under the
    mart's current suite."""
    if not table_exists(con, "audit", "mart_validations"):
        return False
    name = quote_ident(column)
    unvalidated = con.execute(
        f"select count(*) from (select distinct date_trunc('month', {name})::date as month "  # noqa: S608
        f"from {table_ref('marts', mart)} where {name} < $first or {name} >= $after) as held "
        "where not exists (select 1 from audit.mart_validations as v where v.mart = $mart "
        "and v.month = held.month and v.success and v.suite_sha256 = $suite)",
        {"first": scope[0], "after": scope[1], "mart": mart, "suite": suite_sha256(mart)},
    ).fetchall()[0][0]
    return int(unvalidated) == 0


def scopes(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, marts: tuple[str, ...]
) -> dict[str, Scope]:
    """The marts this run validates for its months only, and those months (see the module)."""
    window = run_month_range(context.run.tags)
    if window is None or context.run.parent_run_id is not None:
        return {}
    scope = (date.fromisoformat(f"{window[0]}-01"), _month_after(window[1]))
    found: dict[str, Scope] = {}
    for mart in marts:
        column = month_column("marts", mart)
        if column is None or rebuilt_whole(context, dg.AssetKey(["marts", mart])):
            continue
        if _validated_elsewhere(con, mart, column, scope):
            found[mart] = scope
    return found


def describe(scope: Scope | None) -> str:
    """A scope as the results and Data Docs name it: 'all' or 'YYYY-MM to YYYY-MM'."""
    if scope is None:
        return "all"
    last = date.fromordinal(scope[1].toordinal() - 1)
    return f"{scope[0]:%Y-%m} to {last:%Y-%m}"


def record(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    results: list[dict[str, Any]],
    marts: tuple[str, ...],
    validated: dict[str, Scope],
) -> None:
    """Record in `audit.mart_validations` the months of each month-partitioned mart this run
    validated, with the outcome; months a mart no longer holds leave the ledger."""
    con.execute(load("audit", "mart_validations"))
    now = datetime.now().astimezone()
    for mart in marts:
        column = month_column("marts", mart)
        if column is None:
            continue
        where, bounds = month_filter(mart, validated.get(mart))
        name = quote_ident(column)
        success = all(r["success"] for r in results if r["dataset"] == mart)
        con.execute(
            f"delete from audit.mart_validations where mart = $mart and month not in ("  # noqa: S608
            f"select distinct date_trunc('month', {name})::date from {table_ref('marts', mart)})",
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
                "suite": suite_sha256(mart),
                "success": success,
                "validated_months": describe(validated.get(mart)),
                **bounds,
            },
        )
