"""What the warehouse shows an auditor: quarantine reasons with examples, and the charts' series.

Everything here is read from the built warehouse and written into the run's manifest, so that
the report is drawn from the manifest alone and a test can recompute each series.
"""

from typing import Any

import duckdb

from assets.common.contracts import contract_for_table
from assets.common.rule_sentences import REASON_DETAIL
from assets.common.sql import quote_ident, table_ref
from assets.common.warehouse import table_exists

EXAMPLES_PER_REASON = 3
MONTHLY_DATASET = "customs_declarations"
DUAL_USE_IMPORTER = "RU"

_QUARANTINED = """
select table_name from duckdb_tables() where schema_name = 'quarantine' order by 1
"""


def quarantine_reasons(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Quarantined rows by dataset and kind of reason, with the first few rows of each kind."""
    found: list[dict[str, Any]] = []
    for (table,) in con.execute(_QUARANTINED).fetchall():
        contract = contract_for_table("staging", table)
        keys = list(contract.primary_key) if contract else []
        key = (
            "concat_ws(' / ', " + ", ".join(quote_ident(k) for k in keys) + ")" if keys else "null"
        )
        rows = con.execute(
            f"""
            with reasons as (
                select source_file, source_row_number, nullif({key}, '') as key,
                    unnest(reasons) as reason
                from {table_ref("quarantine", table)}
            )
            select split_part(reason, $detail, 1) as kind, count(*) as rows,
                list([source_file, source_row_number::varchar, key, reason]
                    order by source_file, source_row_number, reason)[1:$examples] as examples
            from reasons group by kind order by rows desc, kind
            """,  # noqa: S608
            {"detail": REASON_DETAIL, "examples": EXAMPLES_PER_REASON},
        ).fetchall()
        for kind, count, examples in rows:
            found.append(
                {
                    "dataset": table,
                    "reason": kind,
                    "rows": count,
                    "key": " / ".join(keys),
                    "examples": [
                        {"file": f, "row": int(r), "key": k, "reason": text}
                        for f, r, k, text in examples
                    ],
                }
            )
    return found


def rows_by_month(con: duckdb.DuckDBPyConnection, dataset: str = MONTHLY_DATASET) -> list[dict]:
    """Rows staged and quarantined per delivery month of a monthly dataset."""
    layers = [layer for layer in ("staging", "quarantine") if table_exists(con, layer, dataset)]
    if "staging" not in layers:
        return []
    counted = " union all ".join(
        f"select partition_month as month, '{layer}' as layer from {table_ref(layer, dataset)}"  # noqa: S608
        for layer in layers
    )
    rows = con.execute(
        "select month, count(*) filter (layer = 'staging'), "  # noqa: S608
        f"count(*) filter (layer = 'quarantine') from ({counted}) group by month order by month"
    ).fetchall()
    return [{"month": m, "staged": s, "quarantined": q} for m, s, q in rows]


def dual_use_by_month(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Value of controlled goods imported by `DUAL_USE_IMPORTER` per month, each code once.

    The mart has one row per control tag: a code under several measures is counted once here.
    """
    if not table_exists(con, "marts", "dual_use_trade_monthly"):
        return []
    contract = contract_for_table("marts", "dual_use_trade_monthly")
    present = {
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'dual_use_trade_monthly'"
        ).fetchall()
    }
    keys = [
        k for k in (contract.primary_key if contract else ()) if k != "control_tag" and k in present
    ]
    grouped = ", ".join(quote_ident(k) for k in keys) or "month, hs6"
    rows = con.execute(
        f"""
        select strftime(month, '%Y-%m'), round(sum(value_usd), 2)
        from (
            select month, max(value_usd) as value_usd from marts.dual_use_trade_monthly
            where importer_country = $importer group by {grouped}
        )
        group by all order by 1
        """,  # noqa: S608
        {"importer": DUAL_USE_IMPORTER},
    ).fetchall()
    return [{"month": m, "value_usd": float(v)} for m, v in rows]


def sanctions_changes(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Entries added, removed and changed at each snapshot after a list's first."""
    if not table_exists(con, "core", "sanctions_snapshots"):
        return []
    changes = (
        "(select list_id, to_snapshot, change from marts.sanctions_list_changes)"
        if table_exists(con, "marts", "sanctions_list_changes")
        else "(select null::varchar as list_id, null::date as to_snapshot, "
        "null::varchar as change where false)"
    )
    rows = con.execute(
        f"""
        select s.list_id, s.snapshot_date::varchar, s.entries,
            count(*) filter (c.change = 'ADDED'),
            count(*) filter (c.change = 'REMOVED'),
            count(*) filter (c.change = 'CHANGED')
        from core.sanctions_snapshots as s
        left join {changes} as c
            on c.list_id = s.list_id and c.to_snapshot = s.snapshot_date
        where s.snapshot_date > (select min(snapshot_date) from core.sanctions_snapshots as f
                                 where f.list_id = s.list_id)
        group by all order by 2, 1
        """  # noqa: S608
    ).fetchall()
    keys = ("list", "snapshot", "entries", "added", "removed", "changed")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def figures(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    """The series the report draws."""
    return {
        "rows_by_month": rows_by_month(con),
        "dual_use_by_month": dual_use_by_month(con),
        "sanctions_changes": sanctions_changes(con),
    }
