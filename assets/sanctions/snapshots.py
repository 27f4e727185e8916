"""Sanctions-list snapshots: keep every received file, guard it, then parse accepted ones.

Delistings are not announced, so listing history comes from comparing snapshots. Every file is
kept as received (bytes, sha256, time received); the same bytes landed twice change nothing.
A snapshot that fails the guard is recorded in `audit.sanctions_rejections` and the previous one
stays in force. One that would delist more than its list's bound, or an entry linked to the
warehouse, is held for review (`audit.pending_delistings`) until an approval row releases it; it
never enters `raw.sanctions_files`, so nothing built from the accepted snapshots sees it.
"""

import contextlib
import gzip
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.common import sql
from assets.common.landing import LandingArea
from assets.common.warehouse import (
    Warehouse,
    log_step,
    replace_table,
    run_executes,
    table_exists,
)
from assets.sanctions import approvals, guard
from assets.sanctions.model import PART_SCHEMAS, ParsedList
from assets.sanctions.registry import (
    ListSpec,
    Snapshot,
    landed_snapshots,
    list_specs,
    parse_parts,
    parser_digest,
    parser_version,
)
from assets.sanctions.sensors import LIST_VERSION_TAG

# the step that screens against the lists (`assets.resolution.assets.entity_matches`)
ENTITY_MATCHES_STEP = "core__entity_matches"

# sql/<layer>/<table>.sql
_TABLES = (("raw", "sanctions_files"), ("audit", "sanctions_rejections"))

# The snapshot a new one would replace: the latest accepted on or before its date.
_IN_FORCE = """
select snapshot_date, entries from raw.sanctions_files
where list_id = $list and part = $part and snapshot_date <= $day
order by snapshot_date desc limit 1
"""

STAGING_TABLES = tuple(PART_SCHEMAS)


def _accepted(con: duckdb.DuckDBPyConnection, spec: ListSpec, day: date) -> ParsedList:
    """Parse an accepted snapshot from the bytes kept in raw.sanctions_files."""
    rows = con.execute(
        "select part, content from raw.sanctions_files "
        "where list_id = $list and snapshot_date = $day",
        {"list": spec.list_id, "day": day},
    ).fetchall()
    return parse_parts(spec, {part: _content(content) for part, content in rows})


def _reject(
    con: duckdb.DuckDBPyConnection, snapshot: Snapshot, files: str, reason: str, at: datetime
) -> None:
    con.execute(
        "insert into audit.sanctions_rejections values "
        "($list, $day, $fingerprint, $files, $reason, $at)",
        {
            "list": snapshot.spec.list_id,
            "day": snapshot.as_of,
            "fingerprint": snapshot.fingerprint,
            "files": files,
            "reason": reason,
            "at": at,
        },
    )
    approvals.raise_alert(con, "ERROR", snapshot.version, f"rejected ({files}): {reason}", at)


def _accept(
    con: duckdb.DuckDBPyConnection,
    snapshot: Snapshot,
    landing_root: Path,
    entries: int,
    at: datetime,
    approval: tuple[approvals.Approval, int, list[str]] | None,
) -> None:
    """Keep the snapshot's files as received, with the approval that released it if any."""
    spec = snapshot.spec
    con.execute("begin transaction")
    con.execute(
        "delete from raw.sanctions_files where list_id = $list and snapshot_date = $day",
        {"list": spec.list_id, "day": snapshot.as_of},
    )
    for part, landed in sorted(snapshot.files.items()):
        con.execute(
            "insert into raw.sanctions_files values ($list, $day, $part, $fingerprint, "
            "$file, $sha256, $size, $entries, $content, $at)",
            {
                "list": spec.list_id,
                "day": snapshot.as_of,
                "part": part,
                "fingerprint": snapshot.fingerprint,
                "file": landed.path.relative_to(landing_root).as_posix(),
                "sha256": landed.sha256,
                "size": landed.size_bytes,
                "entries": entries if part == spec.main_part else None,
                "content": landed.path.read_bytes(),
                "at": at,
            },
        )
    if approval is not None:
        approvals.record_approval(con, snapshot, *approval, at)
    con.execute("commit")


def list_versions_in_force(con: duckdb.DuckDBPyConnection) -> str:
    """The latest accepted snapshot of each list, as the run's list-version tag names them."""
    rows = con.execute(
        "select list_id || '@' || max(snapshot_date) from raw.sanctions_files "
        "group by list_id order by 1"
    ).fetchall()
    return ",".join(row[0] for row in rows)


@dg.asset(
    key=["raw", "sanctions_files"],
    group_name="sanctions",
    kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec("approval_rows_valid", asset=["raw", "sanctions_files"])],
)
def raw_sanctions_files(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: LandingArea
) -> dg.MaterializeResult:
    """Every sanctions-list file received, kept as received, once it passes the guard.

    A snapshot whose removals need review is held (see `approvals`) until an approval row names
    it; it is judged again on every run, so a landed approval releases it on the next one.
    """
    snapshots = landed_snapshots(landing.root)
    now = datetime.now(UTC)
    approval_rows = approvals.read_approvals(landing.root, now.date())
    accepted, rejected, held = [], [], []
    held_fingerprints: list[str] = []
    with warehouse.connect() as con:
        for layer, table in _TABLES:
            con.execute(sql.load(layer, table))
        approvals.create_tables(con)
        for refused in approval_rows.refused:
            approvals.raise_alert(
                con, "WARN", "snapshot approvals", f"row not used: {refused}", now
            )
        settled = {
            row[0]
            for row in con.execute(
                "select fingerprint from raw.sanctions_files union "
                "select fingerprint from audit.sanctions_rejections"
            ).fetchall()
        }
        in_force_cache: dict[tuple[str, date], ParsedList] = {}
        for snapshot in snapshots:
            if snapshot.fingerprint in settled:
                continue
            spec = snapshot.spec
            in_force = con.execute(
                _IN_FORCE, {"list": spec.list_id, "part": spec.main_part, "day": snapshot.as_of}
            ).fetchall()
            parsed, reason = guard.check(snapshot, in_force[0][1] if in_force else None)
            files = ", ".join(f.path.name for f in snapshot.files.values())
            if parsed is None:
                _reject(con, snapshot, files, str(reason), now)
                rejected.append({"snapshot": snapshot.version, "files": files, "reason": reason})
                context.log.warning(f"rejected {snapshot.version} ({files}): {reason}")
                continue
            approval = None
            if in_force:
                key = (spec.list_id, in_force[0][0])
                before = in_force_cache.get(key) or _accepted(con, spec, key[1])
                removed = guard.removed_entries(before, parsed)
                linked = approvals.linked_entries(con, spec.list_id, removed, before.identifiers)
                reasons = guard.review_reasons(
                    spec, removed.height, before.entries.height, len(linked)
                )
                sha256 = snapshot.files[spec.main_part].sha256
                if reasons and (spec.list_id, sha256) not in approval_rows.valid:
                    approvals.hold(con, snapshot, removed, linked, reasons, now)
                    held.append({"snapshot": snapshot.version, "reasons": reasons})
                    held_fingerprints.append(snapshot.fingerprint)
                    context.log.warning(f"held {snapshot.version} for review: {reasons}")
                    continue
                if reasons:
                    approval = (
                        approval_rows.valid[(spec.list_id, sha256)],
                        removed.height,
                        reasons,
                    )
            _accept(con, snapshot, landing.root, parsed.entries.height, now, approval)
            in_force_cache[(spec.list_id, snapshot.as_of)] = parsed
            accepted.append(snapshot.version)
            context.log.info(f"accepted {snapshot.version}: {parsed.entries.height} entries")
        approvals.drop_stale(con, held_fingerprints)
        versions = list_versions_in_force(con)
        log_step(con, context, rows_received=len(snapshots), rows_written=len(accepted))
    # The sensor names the versions it expects; this names the ones the run put in force.
    context.instance.add_run_tags(context.run.run_id, {LIST_VERSION_TAG: versions})
    return dg.MaterializeResult(
        metadata={
            "snapshots_landed": len(snapshots),
            "accepted": dg.MetadataValue.json(accepted),
            "rejected": dg.MetadataValue.json(rejected),
            "held_for_review": dg.MetadataValue.json(held),
            "lists_in_force": versions,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="approval_rows_valid",
                passed=not approval_rows.refused,
                severity=dg.AssetCheckSeverity.WARN,
                description="; ".join(approval_rows.refused) or "every approval row is valid",
            )
        ],
    )


@dg.asset_check(asset=["raw", "sanctions_files"], name="no_rejected_snapshots")
def no_rejected_snapshots(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Warn while any received snapshot stands rejected (the previous one is still in force)."""
    with warehouse.connect() as con:
        rows = con.execute(
            "select list_id, snapshot_date::varchar, files, reason "
            "from audit.sanctions_rejections order by rejected_at"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rejections": dg.MetadataValue.json([list(map(str, row)) for row in rows])},
    )


def _content(blob: bytes) -> bytes:
    return gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob


# The columns that say which snapshot and parser a staged row came from, before the model's
_LABEL_TYPES: dict[str, pl.DataType] = {
    "list_id": pl.String(),
    "snapshot_date": pl.Date(),
    "parser_version": pl.String(),
}

# Per staged snapshot: its rows in the four staging tables, when all carry one parser version.
_STAGED_ROWS = """
with counted as (
    select list_id, snapshot_date, parser_version, count(*) as n
    from staging.sanctions_entries group by all
    union all
    select list_id, snapshot_date, parser_version, count(*) from staging.sanctions_aliases
    group by all
    union all
    select list_id, snapshot_date, parser_version, count(*) from staging.sanctions_identifiers
    group by all
    union all
    select list_id, snapshot_date, parser_version, count(*) from staging.sanctions_addresses
    group by all
)
select list_id, snapshot_date, any_value(parser_version) as parser_version,
    sum(n)::bigint as staged_rows
from counted
group by list_id, snapshot_date
having count(distinct parser_version) = 1
"""


def _schema(table: str) -> dict[str, pl.DataType]:
    """A staging table's columns: the snapshot's labels, then the model's."""
    return {**_LABEL_TYPES, **PART_SCHEMAS[table]}


def _columns_as_the_model(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every staging table exists with the columns the model gives it, in order."""
    for table in STAGING_TABLES:
        found = [
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'staging' and table_name = $table "
                "order by ordinal_position",
                {"table": f"sanctions_{table}"},
            ).fetchall()
        ]
        if found != list(_schema(table)):
            return False
    return True


def _to_parse(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The accepted snapshots (list_id, snapshot_date, fingerprint, parser version and code
    digest) whose staged rows stay, and those to parse.

    A snapshot's rows stay when `audit.sanctions_staged` says they were parsed from the same
    bytes by the same parser version and code, and the staging tables hold that many rows of
    it, under that version. Every snapshot is parsed when a staging table is missing or its
    columns are not the model's.
    """
    specs = list_specs()
    versions = {list_id: parser_version(spec) for list_id, spec in specs.items()}
    digests = {list_id: parser_digest(spec) for list_id, spec in specs.items()}
    accepted = con.sql(
        "select list_id, snapshot_date, any_value(fingerprint) as fingerprint "
        "from raw.sanctions_files group by all order by all"
    ).pl()
    accepted = accepted.with_columns(
        pl.col("list_id").replace_strict(versions, return_dtype=pl.String).alias("parser_version"),
        pl.col("list_id").replace_strict(digests, return_dtype=pl.String).alias("parser_digest"),
    )
    if not _columns_as_the_model(con):
        return accepted.clear(), accepted
    staged = con.sql(
        "select list_id, snapshot_date, fingerprint, parser_version, parser_digest, staged_rows "
        "from audit.sanctions_staged"
    ).pl()
    found = con.sql(_STAGED_ROWS).pl()
    recorded = ["list_id", "snapshot_date", "parser_version", "staged_rows"]
    keys = ["list_id", "snapshot_date", "fingerprint", "parser_version", "parser_digest"]
    kept = staged.join(found, on=recorded, how="semi").drop("staged_rows")
    keep = accepted.join(kept, on=keys, how="semi")
    return keep, accepted.join(kept, on=keys, how="anti")


def _parse_snapshots(
    con: duckdb.DuckDBPyConnection, snapshots: pl.DataFrame
) -> tuple[dict[str, list[pl.DataFrame]], list[int]]:
    """The staging rows of each snapshot given (read from the bytes kept in raw), and each
    snapshot's count of them."""
    out: dict[str, list[pl.DataFrame]] = {table: [] for table in STAGING_TABLES}
    counts = []
    specs = list_specs()
    for list_id, day, version in snapshots.select(*_LABEL_TYPES).iter_rows():
        parsed = _accepted(con, specs[list_id], day)
        labels = [
            pl.lit(list_id).alias("list_id"),
            pl.lit(day).cast(pl.Date).alias("snapshot_date"),
            pl.lit(version).alias("parser_version"),
        ]
        frames = [getattr(parsed, table).select(*labels, pl.all()) for table in STAGING_TABLES]
        for table, frame in zip(STAGING_TABLES, frames, strict=True):
            out[table].append(frame)
        counts.append(sum(frame.height for frame in frames))
    return out, counts


def _write_staging(
    con: duckdb.DuckDBPyConnection,
    keep: pl.DataFrame,
    fresh: pl.DataFrame,
    parsed: dict[str, list[pl.DataFrame]],
    changes: pl.DataFrame | None,
) -> dict[str, tuple[int, int]]:
    """In one transaction: each staging table's rows of the snapshots not kept replaced by the
    new parses (the whole table when none is kept), `audit.sanctions_staged` brought up to date
    and the entries a parser change altered recorded. (rows written, rows in table) by table."""
    written = {}
    con.register("_keep", keep.select("list_id", "snapshot_date").to_arrow())
    con.register("_fresh", fresh.to_arrow())
    con.execute("begin transaction")
    try:
        for table, frames in parsed.items():
            name = f"sanctions_{table}"
            frame = pl.concat(frames) if frames else pl.DataFrame(schema=_schema(table))
            if not keep.height:
                replace_table(con, "staging", name, frame)
            else:
                con.execute(
                    f"delete from {sql.table_ref('staging', name)} as t where not exists "  # noqa: S608
                    "(select 1 from _keep as k "
                    "where k.list_id = t.list_id and k.snapshot_date = t.snapshot_date)"
                )
                con.register("_frame", frame.to_arrow())
                con.execute(
                    f"insert into {sql.table_ref('staging', name)} by name "  # noqa: S608
                    "select * from _frame"
                )
            rows = con.execute(
                f"select count(*) from {sql.table_ref('staging', name)}"  # noqa: S608
            ).fetchall()[0][0]
            written[name] = (frame.height, rows)
        con.execute(
            "delete from audit.sanctions_staged as s where not exists (select 1 from _keep as k "
            "where k.list_id = s.list_id and k.snapshot_date = s.snapshot_date)"
        )
        con.execute(
            "insert into audit.sanctions_staged select list_id, snapshot_date, fingerprint, "
            "parser_version, parser_digest, staged_rows, $at from _fresh",
            {"at": datetime.now(UTC)},
        )
        if changes is not None and changes.height:
            con.register("_changes", changes.to_arrow())
            con.execute("insert into audit.sanctions_parser_changes by name select * from _changes")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for view in ("_keep", "_fresh", "_frame", "_changes"):
            with contextlib.suppress(duckdb.Error):
                con.unregister(view)
    return written


_COMPARED = ["name", "entity_type", "programs", "countries", "listing_date", "remarks"]


def _parser_changes(con: duckdb.DuckDBPyConnection, new: pl.DataFrame) -> pl.DataFrame:
    """Entries whose normalized form differs only because the parser changed.

    Compares the staged rows of each snapshot (built by an older parser version) with the rows the
    current parser produced from the same bytes; the publisher changed nothing in between.
    """
    if not table_exists(con, "staging", "sanctions_entries"):
        return pl.DataFrame()
    keys = ["list_id", "snapshot_date", "entry_id"]
    old = con.sql(
        f"select {', '.join([*keys, 'parser_version', *_COMPARED])} "  # noqa: S608
        "from staging.sanctions_entries"
    ).pl()
    joined = old.join(
        new.select(*keys, "parser_version", *_COMPARED),
        on=keys,
        how="full",
        suffix="_new",
        coalesce=True,
    )
    joined = joined.filter(pl.col("parser_version") != pl.col("parser_version_new"))
    if joined.height == 0:
        return pl.DataFrame()
    changed = pl.concat_list(
        pl.when(pl.col(f).ne_missing(pl.col(f"{f}_new"))).then(pl.lit(f)) for f in _COMPARED
    ).list.drop_nulls()
    return (
        joined.with_columns(changed.alias("changed_fields"))
        .filter(pl.col("changed_fields").list.len() > 0)
        .select(
            *keys,
            pl.lit("CHANGED").alias("change"),
            "changed_fields",
            pl.col("parser_version").alias("old_parser_version"),
            pl.col("parser_version_new").alias("new_parser_version"),
            pl.lit(datetime.now(UTC)).alias("detected_at"),
        )
    )


def _start_matcher_builds(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, build_path: str
) -> None:
    """If the run screens (`core.entity_matches`), start building meanwhile the matchers it
    will build from nothing (`resolution.prebuild`); a failure to start only warns."""
    run = context.run
    if not run_executes(run, context.instance, ENTITY_MATCHES_STEP):
        return
    # imported here: the matcher's modules are not needed to load the definitions
    from assets.resolution import prebuild
    from assets.resolution.config import MatchConfig

    try:
        started = prebuild.start(con, build_path, MatchConfig())
    except Exception as error:  # a saving only: entity_matches builds what it does not find
        context.log.warning(f"matchers not built ahead of core.entity_matches: {error}")
        return
    if started:
        context.log.info(f"building {len(started)} matcher(s) ahead of core.entity_matches")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["staging", f"sanctions_{table}"],
            deps=[["raw", "sanctions_files"]],
            group_name="sanctions",
            description=f"Sanctions-list {table} of every accepted snapshot, normalized.",
            kinds={"duckdb", "polars"},
        )
        for table in STAGING_TABLES
    ]
)
def staging_sanctions(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult]:
    """Parse every accepted snapshot with the current parsers into the normalized model."""
    with warehouse.connect() as con:
        con.execute(sql.load("audit", "sanctions_staged"))
        keep, fresh = _to_parse(con)
        if not keep.height and not fresh.height:
            raise RuntimeError("no accepted sanctions snapshot: land one before building")
        parsed, row_counts = _parse_snapshots(con, fresh)
        fresh = fresh.with_columns(pl.Series("staged_rows", row_counts, dtype=pl.Int64))
        changes = _parser_changes(con, pl.concat(parsed["entries"])) if fresh.height else None
        con.execute(sql.load("audit", "sanctions_parser_changes"))
        written = _write_staging(con, keep, fresh, parsed, changes)
        if changes is not None and changes.height:
            context.log.info(f"{changes.height} entries changed only because the parser changed")
        for name, (new_rows, _) in written.items():
            log_step(
                con,
                context,
                rows_received=None,
                rows_written=new_rows,
                asset_key=dg.AssetKey(["staging", name]),
            )
        context.log.info(
            f"parsed {fresh.height} snapshot(s); the staged rows of {keep.height} stay as they were"
        )
        _start_matcher_builds(context, con, warehouse.build_path)
    changed = changes.height if changes is not None else 0
    for name, (_, rows) in written.items():
        yield dg.MaterializeResult(
            asset_key=["staging", name],
            metadata={
                "rows": rows,
                "snapshots_parsed": fresh.height,
                "entries_changed_by_parser": changed,
            },
        )
